"""A small client of the agent HTTP API, for `otp agent` (and anything else that speaks it).

Configured from OTP_URL and OTP_TOKEN (environment or .env). Every failure becomes one
of two exceptions: `ApiProblem` (the server answered with a problem document) or
`Unreachable` (no answer at all), each with a message written for a person.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_URL = "http://127.0.0.1:3000"
API = "/api/v1"


class AgentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OTP_", env_file=".env", extra="ignore")

    url: str = DEFAULT_URL  # where `otp serve` listens
    token: SecretStr | None = None  # from `otp token create`


class ApiProblem(Exception):
    """The API said no: its problem document, readable."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status, self.body = status, body
        self.title = str(body.get("title") or f"HTTP {status}")
        self.detail = body.get("detail")
        self.hint = body.get("hint")
        super().__init__(self.message)

    @property
    def message(self) -> str:
        text = f"{self.title}: {self.detail}" if self.detail else self.title
        fields = [f"  {e.get('path')}: {e.get('message')}" for e in self.body.get("errors") or []][:10]
        return "\n".join([text, *fields, *([self.hint] if self.hint else [])])

    @property
    def client_error(self) -> bool:
        return 400 <= self.status < 500


class Unreachable(Exception):
    """No answer from the API: not running, wrong URL, or the network."""


class ApiClient:
    def __init__(self, url: str, token: str, *, timeout: float = 30.0) -> None:
        url = url.rstrip("/")
        self.base = url if url.endswith(API) else url + API  # OTP_URL may name the server or the API
        # The token goes only in this header; it is never printed or logged.
        self.http = httpx.Client(
            headers={"Authorization": f"Bearer {token}", "User-Agent": "otp-agent"}, timeout=timeout
        )

    @classmethod
    def from_settings(cls, settings: AgentSettings | None = None) -> ApiClient:
        settings = settings or AgentSettings()
        token = settings.token.get_secret_value().strip() if settings.token else ""
        if not token:
            raise ApiProblem(
                401,
                {
                    "title": "OTP_TOKEN is not set",
                    "hint": "create a token with `otp token create --holder HOLDER` and export "
                    "OTP_TOKEN (or put it in .env)",
                },
            )
        return cls(settings.url, token)

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> tuple[int, Any]:
        """(status, decoded JSON body) of a 2xx answer; ApiProblem or Unreachable otherwise."""
        params = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self.http.request(
                method,
                self.base + path,
                json=json,
                params=params,
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.TimeoutException:
            raise Unreachable(f"the OTP API at {self.base} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise Unreachable(
                f"cannot reach the OTP API at {self.base} ({type(exc).__name__}: {exc}); "
                "is `otp serve` running there? (set OTP_URL)"
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = {"title": f"HTTP {response.status_code}", "detail": response.text[:200] or None}
        if response.is_success:
            return response.status_code, body
        raise ApiProblem(response.status_code, body if isinstance(body, dict) else {"detail": str(body)[:200]})

    def close(self) -> None:
        self.http.close()
