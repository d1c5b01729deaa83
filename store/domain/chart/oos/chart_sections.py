"""The chart's holders and seats from OOS entities: ids by slug, titles, reporting lines,
accountabilities, owned topics (one owner per topic) and customer-facing seats."""

from __future__ import annotations

import re
from typing import Any

from otp_bot.store.domain.chart.chartfile.cross_checks import normalize_topic
from otp_bot.store.domain.chart.oos.entities import Converter, Ids, slug
from otp_bot.store.domain.chart.oos.routes import approval_routes

_OUTWARD = re.compile(
    r"\b(outreach|e-?mails?|repl(y|ies)|pitch(es)?|messages?|proposals?|sends?|communications?)\b", re.I
)
_OUTSIDE = re.compile(r"\b(clients?|customers?|prospect\w*|leads?)\b", re.I)


def chart_sections(conv: Converter) -> dict[str, Any]:
    """The chart's holders, seats and approval routes from the entities read, with where each
    value came from (for errors) and what the import report should say."""
    holder_ids, seat_ids = Ids(), Ids()
    people = conv.humans + conv.agents
    described = []
    for ent in people:
        # OTP's example gives agents a seat-like name ("Retention Guardian") and a role that
        # describes the work; its starter a persona name ("Pepper") and a short role.
        if ent.kind == "agent" and ent.raw.get("name") and (len(ent.role) > 40 or "," in ent.role):
            ent.duty, ent.role = ent.role, ent.name
            described.append(ent.oos_id or ent.where)
        ent.holder = holder_ids.claim(ent.name, ent.oos_id)
        ent.seat = seat_ids.claim(ent.role, ent.oos_id)
        if ent.holder != slug(ent.name, 60):
            conv.report.append(
                f"{ent.where}: holder id {ent.holder!r} (the name {ent.name!r} gives a taken or empty id)"
            )
        if ent.seat != slug(ent.role, 60):
            conv.report.append(f"{ent.where}: seat id {ent.seat!r} (the role {ent.role!r} gives a taken or empty id)")
    if described:
        conv.report.append(
            f"the roles of {', '.join(described)} read as descriptions: their seats are titled by "
            "the agent's name, the role is the seat's first accountability"
        )
    owner: dict[str, str] = {}
    for a in conv.agents:
        if a.status != "retired":
            for _, topic in a.texts("owns"):
                owner.setdefault(normalize_topic(topic), a.seat)
    holders: list[dict[str, Any]] = []
    seats: list[dict[str, Any]] = []
    facing: list[str] = []
    for ent in people:
        h, s = f"holders[{len(holders)}]", f"seats[{len(seats)}]"
        holder: dict[str, Any] = {"id": ent.holder, "name": ent.name, "kind": ent.kind}
        seat: dict[str, Any] = {"id": ent.seat, "title": ent.role}
        named = "name" if ent.raw.get("name") else "role"
        conv.origin.update(
            {
                h: ent.where,
                f"{h}.id": f"{ent.where}.{named}",
                f"{h}.name": f"{ent.where}.{named}",
                s: ent.where,
                f"{s}.id": f"{ent.where}.role",
                f"{s}.title": f"{ent.where}.role",
            }
        )
        for key, out_key in (("slack_user", "slack_user"), ("email", "email"), ("contact_email", "email")):
            if isinstance(ent.raw.get(key), str) and ent.raw[key].strip():
                holder[out_key] = ent.raw[key].strip()
                conv.origin[f"{h}.{out_key}"] = f"{ent.where}.{key}"
        if ent.supervisor:
            holder["supervisor"] = ent.supervisor.holder
            conv.origin[f"{h}.supervisor"] = f"{ent.where}.escalates_to"
        if ent.status != "retired":
            seat["holder"] = ent.holder
        if ent.status != "active":
            seat["status"] = ent.status
        if ent.target:
            seat["reports_to"] = ent.target.seat
            conv.origin[f"{s}.reports_to"] = ent.target_loc
        if ent.authority:
            seat["authority"] = ent.authority
        if ent.kind == "agent":
            mission = str(ent.raw.get("mission") or "").strip()
            duties = [(d, f"{ent.where}.{k}") for d, k in ((ent.duty, "role"), (mission, "mission")) if d]
            if duties:
                seat["accountabilities"] = [d for d, _ in duties]
                conv.origin.update({f"{s}.accountabilities[{i}]": loc for i, (_, loc) in enumerate(duties)})
            owns: list[str] = []
            for i, topic in ent.texts("owns"):
                other = owner.get(normalize_topic(topic))
                if ent.status == "retired" and other:
                    conv.report.append(
                        f"{ent.where}.owns[{i}]: {topic!r} is owned by seat {other!r} now; "
                        f"left off the retired seat {ent.seat!r}"
                    )
                    continue
                conv.origin[f"{s}.owns[{len(owns)}]"] = f"{ent.where}.owns[{i}]"
                owns.append(topic)
            seat.update({"owns": owns, "does_not_own": [t for _, t in ent.texts("does_not_own")]})
            if _OUTWARD.search(" ".join([ent.role, mission, *owns])) and _OUTSIDE.search(
                " ".join([ent.role, mission, *owns])
            ):
                seat["customer_facing"] = True
                facing.append(ent.seat)
        holders.append(holder)
        seats.append(seat)
    if facing:
        conv.report.append(f"customer-facing, read from role, mission and owns (check them): {', '.join(facing)}")
    if missing := [h.holder for h in conv.humans if not h.raw.get("slack_user")]:
        conv.report.append(
            f"no Slack user for {', '.join(missing)}: add `slack_user: U…` to the human in the "
            "file (or the chart) so approvals and notices reach them"
        )
    ids = ", ".join(f"{e.oos_id} = {e.holder}" for e in people if e.oos_id)
    conv.report.append(f"holders are named by slug: {ids}")
    return {"holders": holders, "seats": seats, "approvals": approval_routes(conv)}
