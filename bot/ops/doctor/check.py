"""One line of the doctor's checklist: what was checked, how it went, and the fix when it failed."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Status = Literal["ok", "fail", "skip"]


@dataclass(frozen=True)
class Check:
    name: str  # stable, for scripts: "bot-token", "scopes", "channel:C0APPROVALS", ...
    title: str  # for people: "Bot token", "#approvals"
    status: Status
    detail: str  # what was found, one sentence
    fix: str | None = None  # what to do about a failure
    lines: tuple[str, ...] = ()  # more, one item a line (the next runs, the people who did not resolve)

    @property
    def failed(self) -> bool:
        return self.status == "fail"

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["lines"] = list(self.lines)
        return out


def ok(name: str, title: str, detail: str, lines: tuple[str, ...] = ()) -> Check:
    return Check(name, title, "ok", detail, None, lines)


def fail(name: str, title: str, detail: str, fix: str | None, lines: tuple[str, ...] = ()) -> Check:
    return Check(name, title, "fail", detail, fix, lines)


def skip(name: str, title: str, why: str) -> Check:
    return Check(name, title, "skip", f"not checked: {why}")
