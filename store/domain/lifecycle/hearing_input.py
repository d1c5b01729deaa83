"""What a hearing is given (from a form or a hearing file), and each problem with it tied to its field."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from otp_bot.store.domain.chart.chartfile.errors import location
from otp_bot.store.domain.chart.chartfile.yaml_text import parse_yaml
from otp_bot.store.domain.errors import Invalid
from otp_bot.store.models import Seat

DROP = "-"  # where a capability goes when the hearing drops it on purpose


@dataclass(frozen=True)
class Capability:
    """An `owns` topic or an accountability of a seat: what a hearing gives a new place."""

    kind: str  # owns | accountability
    text: str

    @property
    def key(self) -> str:
        # Stable for the same text, so a form opened before a chart change cannot place
        # one capability under another's name.
        prefix = "own" if self.kind == "owns" else "acc"
        return f"{prefix}-{hashlib.sha256(self.text.encode()).hexdigest()[:12]}"

    @property
    def label(self) -> str:
        return f"owns “{self.text}”" if self.kind == "owns" else f"accountability “{self.text}”"


def capabilities(seat: Seat) -> list[Capability]:
    return [Capability("owns", o.topic) for o in seat.owns] + [
        Capability("accountability", a) for a in dict.fromkeys(seat.accountabilities or [])
    ]


@dataclass
class HearingInput:
    reason: str = ""
    findings: str = ""
    recommendation: str = ""
    decision: str = ""
    # (capability key or its text, seat id or "-" to drop it): one per capability to retire
    moves: list[tuple[str, str]] = field(default_factory=list)
    reports_to: str | None = None  # where its direct reports go (default: its manager)


@dataclass(frozen=True)
class Problem:
    field: str  # reason, findings, recommendation, decision, reports_to, or a capability's key
    label: str
    message: str


class HearingErrors(Invalid):
    """Everything wrong with a hearing, each problem tied to its field."""

    def __init__(self, seat_id: str, problems: list[Problem]) -> None:
        self.problems = problems
        lines = [f"{p.label}: {p.message}" for p in problems]
        super().__init__(f"the hearing on `{seat_id}` was not recorded (nothing changed):\n" + "\n".join(lines))

    def by_field(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for p in self.problems:
            out.setdefault(p.field, p.message)
        return out


class _MoveSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    capability: str = Field(min_length=1)
    to_seat: str = Field(min_length=1)  # a seat id, or "-" to drop it


class _HearingSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str = ""
    findings: str = ""
    recommendation: str = ""
    decision: str = ""
    moves: list[_MoveSpec] = Field(default_factory=list)
    reports_to: str | None = None


def hearing_from_text(text: str, source: str) -> HearingInput:
    """A hearing file (YAML or JSON), as the CLI takes it: reason, findings, recommendation,
    decision, moves: [{capability, to_seat}], and optionally reports_to."""
    data = parse_yaml(text, source)
    try:
        spec = _HearingSpec.model_validate(data if data is not None else {})
    except ValidationError as exc:
        lines = [f"{source}: {location(e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise Invalid(
            f"{source} is not a hearing file:\n" + "\n".join(lines),
            hint="keys: reason, findings, recommendation, decision, moves [{capability, to_seat}], reports_to",
        ) from None
    return HearingInput(
        spec.reason,
        spec.findings,
        spec.recommendation,
        spec.decision,
        [(m.capability, m.to_seat) for m in spec.moves],
        spec.reports_to,
    )
