"""The stored chart and its rules written back as OTP's OOS JSON (`otp chart export --format oos`).

Every seat with a holder is an entity (humans `HMN-001`, agents `AGT-001`, numbered in
chart order); a retired agent seat is exported `deprecated` with its last holder. Reporting
lines are `reports_to` (humans) and `escalates_to` (agents); approval routes are the
approving humans' `approves` (the agent seats they approve, and kinds of draft); policies
are `conflict_protocols` and `override_rules`, their seat references as the new entity
ids; rules are `claims`. Written so that importing it gives the same chart: an OTP file
imported, exported and imported again is "no changes". What OOS cannot say (metrics,
schedules, vacant seats, a route's channel, ...) is listed in notes, not silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.domain.chart.chartfile.schema import ChartSpec, SeatSpec
from otp_bot.store.domain.chart.sync.export import export_chart
from otp_bot.store.domain.errors import NotFound
from otp_bot.store.models import SeatHolding

_DESCRIBED = 40  # a role longer than this reads as a description (as the importer reads it)


@dataclass
class Exported:
    document: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def _last_holder(session: Session, seat_id: str) -> str | None:
    return session.scalar(
        select(SeatHolding.holder_id)
        .where(SeatHolding.seat_id == seat_id)
        .order_by(SeatHolding.started_at.desc(), SeatHolding.id.desc())
        .limit(1)
    )


def export_oos(session: Session) -> Exported:
    chart = export_chart(session)
    if chart is None:
        raise NotFound("there is no chart yet", hint="import one with `otp chart import FILE`")
    notes: list[str] = []
    holders = {h.id: h for h in chart.holders}
    pairs: list[tuple[SeatSpec, str]] = []
    placed: dict[str, str] = {}
    # A retired seat's holder is its last one; an imported deprecated agent never held its seat
    # here, so retired seats without a history take the agents that hold nothing, in chart order.
    holding = {s.holder for s in chart.seats if s.holder}
    idle = iter([h.id for h in chart.holders if h.kind == "agent" and h.id not in holding])
    for seat in chart.seats:
        holder = seat.holder
        if holder is None and seat.effective_status == "retired":
            holder = _last_holder(session, seat.id) or next(idle, None)
        if holder is None or holder not in holders:
            notes.append(f"seat {seat.id}: not exported, OOS has no vacant seats")
        elif holder in placed:
            notes.append(
                f"seat {seat.id}: not exported, {holder} is already exported holding {placed[holder]} "
                "(an OOS entity holds one role)"
            )
        else:
            placed[holder] = seat.id
            pairs.append((seat, holder))
    ids: dict[str, str] = {}
    for prefix, kind in (("HMN", "human"), ("AGT", "agent")):
        for seat, _holder in [p for p in pairs if holders[p[1]].kind == kind]:
            ids[seat.id] = f"{prefix}-{sum(1 for v in ids.values() if v.startswith(prefix)) + 1:03d}"
    humans, agents = _entities(chart, pairs, ids, notes)
    entities: dict[str, Any] = {"agents": agents, "humans": humans}
    protocols, overrides = _policies(chart, ids, notes)
    if protocols:
        entities["conflict_protocols"] = protocols
    if overrides:
        entities["override_rules"] = overrides
    front: dict[str, Any] = {
        "oos_version": "1.0",
        "org_pseudonym": chart.org.name,
        "agent_count": len(agents),
        "claim_count": len(chart.rules),
    }
    document: dict[str, Any] = {
        "frontmatter": front,
        "entities": entities,
        "claims": [_claim(r, ids) for r in chart.rules],
    }
    if chart.org.timezone != "UTC":
        document["timezone"] = chart.org.timezone
    notes.extend(
        f"org.{name}: not exported, OOS has no place for it"
        for name in ("coordination_channel", "decimal_mark")
        if getattr(chart.org, name)
    )
    if metrics := [m.id for s in chart.seats for m in s.metrics]:
        notes.append(f"metrics not exported, OOS has no scorecard: {', '.join(metrics)}")
    if chart.schedules:
        notes.append(f"schedules not exported, OOS has none: {', '.join(s.key for s in chart.schedules)}")
    if chart.review:
        notes.append("review not exported, OOS has no weekly review")
    return Exported(document, notes)


def _entities(
    chart: ChartSpec, pairs: list[tuple[SeatSpec, str]], ids: dict[str, str], notes: list[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    holders = {h.id: h for h in chart.holders}
    approves: dict[str, list[str]] = {}
    for i, route in enumerate(chart.approvals):
        if (
            route.channel
            or route.usergroup
            or route.required != 1
            or route.max_rounds is not None
            or any(t for t in (route.remind_after, route.escalate_after, route.expires_after))
        ):
            notes.append(
                f"approvals[{i}]: its channel, user group, count, rounds or timings are not exported; OOS names "
                "only who approves"
            )
        if route.autonomy is not None:
            notes.append(f"approvals[{i}]: its autonomy is not exported; OOS has no approval by policy")
        for approver in route.approvers:
            approves.setdefault(approver, []).extend(route.kinds or [ids[s] for s in route.seats if s in ids])
    humans, agents = [], []
    for seat, holder_id in pairs:
        holder = holders[holder_id]
        line = ids.get(seat.reports_to or "")
        entity: dict[str, Any] = {"id": ids[seat.id], "name": holder.name, "role": seat.title}
        if seat.aliases:
            notes.append(f"seat {seat.id}: aliases not exported, OOS has none")
        if seat.authority:
            entity["authority_level"] = seat.authority
        if holder.kind == "human":
            if line:
                entity["reports_to"] = line
            if holder_id in approves:
                entity["approves"] = list(dict.fromkeys(approves[holder_id]))
            entity.update({k: v for k, v in (("slack_user", holder.slack_user), ("email", holder.email)) if v})
            humans.append(entity)
            continue
        duties = list(seat.accountabilities)
        if seat.title == holder.name and duties and (len(duties[0]) > _DESCRIBED or "," in duties[0]):
            entity["role"] = duties.pop(0)  # the importer titles such a seat by the agent's name again
        if duties:
            entity["mission"] = duties[0]
        if len(duties) > 1:
            notes.append(f"seat {seat.id}: accountabilities after the first not exported: OOS has one mission")
        entity.update({"owns": seat.owns, "does_not_own": seat.does_not_own})
        if line:
            entity["escalates_to"] = line
        entity["status"] = {"active": "active", "planned": "planned", "retired": "deprecated"}[seat.effective_status]
        agents.append(entity)
    return humans, agents


def _ref(value: Any, ids: dict[str, str]) -> Any:
    return ids.get(value, value) if isinstance(value, str) else value


def _policies(chart: ChartSpec, ids: dict[str, str], notes: list[str]) -> tuple[list[dict], list[dict]]:
    protocols, overrides = [], []
    for p in chart.policies:
        raw = dict(p.extra)
        for key in ("winner", "overrider", "overridden"):
            if key in raw:
                raw[key] = _ref(raw[key], ids)
        if isinstance(raw.get("parties"), list):
            raw["parties"] = [_ref(x, ids) for x in raw["parties"]]
        if "overrider" in raw:
            overrides.append(raw)
            continue
        raw.setdefault("id", p.name.upper())
        if p.winner:
            raw["winner"] = ids.get(p.winner, raw.get("winner"))
            raw.setdefault("parties", [ids[p.winner]] if p.winner in ids else [])
        if p.description is not None:
            raw["resolution"] = p.description
        if p.hold_kind and p.while_flag and "detection" not in raw:
            raw["detection"] = f"a draft of kind {p.hold_kind} about a subject flagged {p.while_flag}"
            notes.append(
                f"policy {p.name}: written as a conflict protocol whose detection names {p.hold_kind} "
                f"and {p.while_flag}; check it reads right in OTP"
            )
        protocols.append(raw)
    return protocols, overrides


def _claim(rule: Any, ids: dict[str, str]) -> dict[str, Any]:
    claim: dict[str, Any] = {"claim_id": rule.id, "section": rule.section, "rule": rule.rule}
    for key in ("why", "failure_mode", "confidence", "confidence_score", "evidence", "evidence_reference", "scope"):
        if getattr(rule, key) is not None:
            claim[key] = getattr(rule, key)
    extra = dict(rule.extra)
    named = [ids[s] for s in rule.seats if s in ids] + list(extra.pop("related_entities", []))
    if named:
        claim["related_entities"] = named
    claim.update(extra)
    return claim
