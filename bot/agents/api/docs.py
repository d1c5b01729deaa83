"""The API's documentation page, served whole by `otp serve`: Swagger UI's files come from an
installed package (fastapi-offline ships the current Swagger UI dist), not from a CDN, so
the page works offline and behind a firewall that blocks one."""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs-assets"


def install(api: FastAPI, *, docs: str = "/docs") -> None:
    """`docs` on `api` (created with docs_url=None), its files under ASSETS."""
    api.mount(ASSETS, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-assets")

    @api.get(docs, include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")  # where the API is mounted: /api/v1
        return get_swagger_ui_html(
            openapi_url=f"{root}{api.openapi_url}",
            title=f"{api.title}: documentation",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
        )
