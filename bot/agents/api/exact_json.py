"""Request bodies whose JSON numbers are read exactly.

The standard reader turns `1.00000000000000000001` into the float 1.0 before anything can
check it; read as a Decimal, the value rules see what the agent sent and refuse what the
scorecard cannot keep exactly (store/domain/scorecard/value_parse.py). NaN and Infinity, which
Python's reader accepts, are not JSON: they are refused like any malformed body.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute


def _not_json(constant: str) -> Any:
    raise json.JSONDecodeError(f"{constant} is not a JSON number: send a finite number", constant, 0)


class ExactRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = json.loads(await self.body(), parse_float=Decimal, parse_constant=_not_json)
        return self._json


class ExactNumbers(APIRoute):
    """A route whose JSON body has its numbers as Decimal (integers stay int: exact already)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def exact(request: Request) -> Response:
            return await handler(ExactRequest(request.scope, request.receive))

        return exact
