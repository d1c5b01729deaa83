"""How a refusal becomes a tool error: the domain's message and hint, written so the model can act on it."""

from mcp.server.mcpserver.exceptions import ToolError

from otp_bot.store.domain.agents.tokens import Unauthenticated
from otp_bot.store.domain.errors import DomainError


def explain(exc: DomainError) -> str:
    """A rule that said no, in a sentence: its message, and its hint when it has one."""
    return exc.message + (f". Hint: {exc.hint}" if exc.hint else "")


def refused(exc: DomainError) -> ToolError:
    """A rule that said no, failing the call."""
    return ToolError(explain(exc))


def no_token(*, http: bool) -> ToolError:
    """No token came with the call: how to send one, over HTTP or to a server on stdio."""
    return ToolError(
        "no API token"
        + (
            ": send `Authorization: Bearer otp_…`"
            if http
            else ": set OTP_TOKEN in this server's environment to a token from `otp token create --holder HOLDER`"
        )
    )


def bad_token(exc: Unauthenticated) -> ToolError:
    """The token is unknown, revoked or expired."""
    return ToolError(exc.message + ". Hint: ask an operator for a new token (`otp token create`)")
