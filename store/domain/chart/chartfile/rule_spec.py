"""An operating rule as the chart file holds it: a claim of an OTP OOS file.

In a module of its own so the rules' module (chart/rules.py) and the OOS importer can use
it without importing the rest of the chart schema.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from otp_bot.store.models.base import Confidence

RuleId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,15}$")]
SeatId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Prose = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]


class RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: RuleId
    section: Line
    rule: Prose
    why: Prose | None = None
    failure_mode: Prose | None = None
    # A tuple subscript is its items at run time; mypy wants the values spelled out and cannot see that.
    confidence: Confidence | None = None
    confidence_score: Annotated[float, Field(ge=0, le=1)] | None = None
    evidence: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)] | None = None
    evidence_reference: Prose | None = None
    scope: Prose | None = None
    seats: list[SeatId] = Field(default_factory=list)  # the seats the rule names
    extra: dict[str, Any] = Field(default_factory=dict)  # what else the source said, verbatim

    @field_validator("confidence", "evidence", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value
