"""Reading `otp serve`'s /metrics as Prometheus would: over HTTP, parsed by prometheus-client's own
parser (so a malformed exposition fails the test), with values looked up by sample name and labels."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable

from prometheus_client.parser import text_string_to_metric_families

from tests.support.serve import Server


class Scrape:
    def __init__(self, text: str) -> None:
        self.text = text
        self.families = {f.name: f for f in text_string_to_metric_families(text)}
        self.samples = [s for f in self.families.values() for s in f.samples]

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples called `name` whose labels include `labels` (0 when none)."""
        return sum(s.value for s in self.samples if s.name == name and labels.items() <= s.labels.items())

    def label_values(self, label: str) -> set[str]:
        return {s.labels[label] for s in self.samples if label in s.labels}


def get(server: Server, token: str | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict, str]:
    """GET /metrics: (status, headers with lower-case names, body)."""
    request = urllib.request.Request(f"{server.url}/metrics", headers=dict(headers or {}))
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read().decode()


def scrape(server: Server, token: str | None = None) -> Scrape:
    status, _, body = get(server, token)
    assert status == 200, (status, body)
    return Scrape(body)


def scrape_until(
    server: Server, check: Callable[[Scrape], bool], token: str | None = None, timeout: float = 15.0
) -> Scrape:
    """Scrape until `check` holds (what a worker thread does is counted a moment after the request)."""
    deadline = time.monotonic() + timeout
    while True:
        found = scrape(server, token)
        if check(found):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"/metrics did not show the change within {timeout}s")
        time.sleep(0.1)
