"""A route's `autonomy:` rule: which kinds a seat may earn approval by policy for, after how
many unedited human approvals, and what share of its policy approvals a person still reviews.

A kind is customer-facing, as far as the chart can tell, when the route covers a seat marked
`customer_facing: true`: such a route may not grant autonomy at all. The draft says the rest
at submit time (its own `customer_facing`), and the gate never approves such a draft by policy.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator

from otp_bot.store.domain.chart.chartfile.fields import Spec, Text

MAX_AFTER = 10_000


class AutonomySpec(Spec):
    kinds: list[Text] = Field(min_length=1)
    after: Annotated[int, Field(ge=1, le=MAX_AFTER)]
    # Percent of policy approvals still posted to the approvers for review; every Nth use,
    # starting with the first (store/domain/gate/autonomy.py).
    sample: Annotated[int, Field(ge=0, le=100)] = 10

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, value: list[str]) -> list[str]:
        kinds = [k.strip().lower() for k in value]
        if len(set(kinds)) != len(kinds):
            raise ValueError("a kind is listed twice")
        return kinds

    @field_validator("sample", mode="before")
    @classmethod
    def _sample(cls, value: Any) -> Any:
        # `10%` or `10` in the file; kept as a whole percent.
        if isinstance(value, str):
            text = value.strip().removesuffix("%").strip()
            if not text.isdigit():
                raise ValueError(f"{value!r} is not a share; write it like 10%")
            return int(text)
        return value


def autonomy_problems(chart: Any) -> list[tuple[str, str]]:
    """Each route's autonomy rule against the seats it covers and the kinds it routes."""
    facing = {s.id for s in chart.seats if s.customer_facing}
    problems = []
    for i, route in enumerate(chart.approvals):
        rule: AutonomySpec | None = route.autonomy
        if rule is None:
            continue
        name = f"approvals[{i}] (seats: {', '.join(route.seats)})"
        routed = {k.lower() for k in route.kinds}
        for j, kind in enumerate(rule.kinds):
            where = f"approvals[{i}].autonomy.kinds[{j}]"
            customers = [sid for sid in route.seats if sid in facing]
            if customers:
                problems.append(
                    (
                        where,
                        f"route {name} may not grant autonomy for {kind!r}: seat {customers[0]!r} is "
                        "customer-facing, and customer-facing drafts always wait for a person",
                    )
                )
            elif routed and kind not in routed:
                problems.append(
                    (where, f"route {name} does not route kind {kind!r}; list it in the route's `kinds` too")
                )
    return problems
