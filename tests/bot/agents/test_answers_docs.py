"""/api/v1/docs works offline: every file the page loads is served by `otp serve` itself."""

from __future__ import annotations

import re

import httpx


def test_the_docs_page_loads_nothing_from_elsewhere(server):
    page = httpx.get(f"{server.url}/api/v1/docs")
    assert page.status_code == 200
    loaded = re.findall(r"""(?:src|href)=["']([^"']+)["']|url: ?["']([^"']+)["']""", page.text)
    urls = sorted({a or b for a, b in loaded})
    assert urls == [
        "/api/v1/docs-assets/favicon.png",
        "/api/v1/docs-assets/swagger-ui-bundle.js",
        "/api/v1/docs-assets/swagger-ui.css",
        "/api/v1/openapi.json",
    ]
    for url in urls:
        response = httpx.get(f"{server.url}{url}")
        assert response.status_code == 200 and len(response.content) > 100, url
    assert "SwaggerUIBundle" in httpx.get(f"{server.url}/api/v1/docs-assets/swagger-ui-bundle.js").text
