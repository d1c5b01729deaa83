"""GET /metrics: everything measured, in Prometheus' text format (or OpenMetrics when asked).

Each web app gets a CollectorRegistry of its own: the process's counters (bot/ops/metrics.py,
shared by every app in the process), the gauges of its own store (bot/ops/store_metrics.py), and
the process' CPU, memory and garbage collector. Nothing goes in prometheus-client's global
registry, so building a second app in one process (as the tests do) never clashes.

With OTP_METRICS_TOKEN set, a scrape must send `Authorization: Bearer <token>` (compared in
constant time); without it the endpoint is open, and should not be reachable from outside.
OTP_METRICS_STORE_SECONDS: how long one reading of the store's gauges serves scrapes (5 s).
"""

from __future__ import annotations

import gzip
import hmac
from typing import Annotated

from fastapi import FastAPI, Request, Response
from prometheus_client import GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.exposition import choose_encoder, gzip_accepted
from prometheus_client.registry import CollectorRegistry
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from otp_bot.bot.ops.metrics import register_events
from otp_bot.bot.ops.store_metrics import MAX_AGE, StoreCollector
from otp_bot.store.db import Database

PATH = "/metrics"
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="metrics"'}


class MetricsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OTP_METRICS_", env_file=".env", extra="ignore")

    token: SecretStr | None = None  # OTP_METRICS_TOKEN: when set, /metrics asks for it as a Bearer token
    # OTP_METRICS_STORE_SECONDS: how long one reading of the store's gauges serves scrapes
    store_seconds: Annotated[float, Field(ge=0)] = MAX_AGE


def registry_for(db: Database, store_seconds: float = MAX_AGE) -> CollectorRegistry:
    registry = CollectorRegistry()
    register_events(registry)
    registry.register(StoreCollector(db, max_age=store_seconds))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def _authorized(header: str | None, token: str) -> bool:
    scheme, _, given = (header or "").partition(" ")
    # Both sides as bytes: compare_digest takes only ASCII str, and a header may hold anything.
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def install(web: FastAPI, db: Database, settings: MetricsSettings) -> None:
    """Serve GET /metrics on `web`, reading `db`; the settings' token, when set, is required."""
    registry = registry_for(db, settings.store_seconds)
    token = settings.token.get_secret_value() if settings.token else None

    # Sync: a scrape reads the store (briefly, see store_metrics), in Starlette's worker threads.
    @web.get(PATH, include_in_schema=False)
    def metrics(request: Request) -> Response:
        if token and not _authorized(request.headers.get("authorization"), token):
            return Response("a metrics token is required: Authorization: Bearer <OTP_METRICS_TOKEN>\n", 401, CHALLENGE)
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        body = encode(registry)
        headers = {}
        if gzip_accepted(request.headers.get("accept-encoding", "")):
            body, headers = gzip.compress(body), {"Content-Encoding": "gzip"}
        return Response(body, media_type=content_type, headers=headers)
