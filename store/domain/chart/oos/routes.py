"""`approves` on OOS humans -> the chart's approval routes.

An item that names an agent (by id, name or role) routes that agent seat's drafts to the
human; any other item names a kind of draft (`pricing changes` -> `pricing-changes`) and
routes that kind, from the drafting agents below the human (not view-only or advisory,
not retired), to the human. Kind routes come first: the first route that matches a draft
decides who approves it.
"""

from __future__ import annotations

from typing import Any

from otp_bot.store.domain.chart.oos.entities import Converter, Entity, slug


def _drafting_below(conv: Converter, human: Entity) -> list[Entity]:
    return [
        a
        for a in conv.agents
        if a.supervisor is human and a.status != "retired" and a.authority not in ("view-only", "advisory")
    ]


def approval_routes(conv: Converter) -> list[dict[str, Any]]:
    by_seat: dict[str, dict[str, Any]] = {}
    by_kind: list[dict[str, Any]] = []
    for h in conv.humans:
        kinds = []
        for j, ref in h.texts("approves"):
            loc = f"{h.where}.approves[{j}]"
            target = conv.resolve(ref)
            if target is None:
                kinds.append((loc, slug(ref, 64)))
            elif target.kind == "human":
                conv.report.append(f"{loc}: {ref!r} is a human; only agents' drafts are approved; ignored")
            elif target.status == "retired":
                conv.report.append(f"{loc}: {target.label} is deprecated; no approval for a retired seat")
            else:
                route = by_seat.setdefault(target.seat, {"seats": [target.seat], "approvers": []})
                if h.holder not in route["approvers"]:
                    route["approvers"].append(h.holder)
        if kinds:
            seats = [a.seat for a in _drafting_below(conv, h)]
            names = ", ".join(f"`{k}`" for _, k in kinds)
            if seats:
                by_kind.append({"seats": seats, "kinds": [k for _, k in kinds], "approvers": [h.holder]})
                conv.report.append(
                    f"{h.where}.approves: drafts of kind {names} from {', '.join(seats)} go to "
                    f"{h.label} (a draft's kind is what the agent submits it as)"
                )
            else:
                conv.report.append(
                    f"{h.where}.approves: {names} kept nowhere: no agent that drafts escalates to {h.label}"
                )
    # Kind routes first: the first route that matches a draft decides who approves it.
    routes = by_kind + list(by_seat.values())
    for i in range(len(routes)):
        conv.origin[f"approvals[{i}]"] = "entities.humans[].approves"
    return routes
