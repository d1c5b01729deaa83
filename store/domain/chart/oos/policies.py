"""Conflict protocols and override rules -> the chart's policies.

A conflict protocol becomes a policy named from its `id` (or name, or parties) whose
winner is the winning party's seat; when its `detection` pairs an expansion (upsell,
cross-sell) with an at-risk or churn-risk flag, the policy holds `expansion` drafts while
the subject is flagged `at-risk` by the winner's seat: OTP's CFT-001 shape, enforced. An
override rule becomes a policy too, kept as a record (it holds nothing by itself). Every
original field is kept in the policy's `extra`, its references to agents and humans as seat ids.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from otp_bot.store.domain.chart.oos.entities import Converter, Entity

_FLAG = re.compile(r"\b(at[-\s]risk|churn[-\s]risk)\b", re.I)
_EXPANSION = re.compile(r"\b(expansion|upsell|up-sell|cross-sell)\b", re.I)


def _party(conv: Converter, ref: Any, loc: str) -> Entity | None:
    if not isinstance(ref, str) or not ref.strip():
        conv.report.append(f"{loc}: {ref!r} is not an id; ignored")
        return None
    ent = conv.resolve(ref.strip())
    if ent is None:
        conv.report.append(f"{loc}: {ref!r} names no agent or human of this file; ignored")
    return ent


def _by_seat(conv: Converter, raw: dict[str, Any]) -> dict[str, Any]:
    """The original fields, with references to this file's entities written as seat ids: the
    chart's own names, which stay true when the chart is exported with fresh entity ids."""

    def seat_of(ref: Any) -> Any:
        ent = conv.resolve(ref) if isinstance(ref, str) else None
        return ent.seat if ent is not None else ref

    out = dict(raw)
    for key in ("winner", "overrider", "overridden"):
        if key in out:
            out[key] = seat_of(out[key])
    if isinstance(out.get("parties"), list):
        out["parties"] = [seat_of(p) for p in out["parties"]]
    return out


def policies(conv: Converter) -> list[dict[str, Any]]:
    from otp_bot.store.domain.chart.oos.entities import Ids

    names = Ids()
    out: list[dict[str, Any]] = []
    for where, raw, refs in conv.protocols:
        parties = [p for j, ref in refs if (p := _party(conv, ref, f"{where}.parties[{j}]"))]
        winner = _party(conv, raw["winner"], f"{where}.winner") if raw.get("winner") is not None else None
        if winner and parties and winner not in parties:
            conv.report.append(f"{where}.winner: {winner.label} is not one of the parties")
        named_by = "name" if raw.get("name") else "id" if raw.get("id") else None
        if named_by:
            label = str(raw[named_by])
        elif winner and (rest := [p.holder for p in parties if p is not winner]):
            label = f"{winner.holder}-wins-over-{'-'.join(rest)}"
        else:
            label = "-".join(["conflict", *(p.holder for p in parties)])
        policy: dict[str, Any] = {"name": names.claim(label, "conflict")}
        if winner:
            policy["winner"] = winner.seat
        if raw.get("resolution") is not None:
            policy["description"] = str(raw["resolution"])
        detection = str(raw.get("detection") or "")
        if (flag := _FLAG.search(detection)) and _EXPANSION.search(detection):
            policy.update(hold_kind="expansion", while_flag="at-risk")
            by = f" by {winner.seat!r}" if winner else ""
            conv.report.append(
                f"{where}: policy {policy['name']!r} holds `expansion` drafts about a subject flagged "
                f"`at-risk`{by} (read from {flag.group(0)!r} in `detection`; check it)"
            )
        policy["extra"] = _by_seat(conv, {k: v for k, v in raw.items() if k != "resolution"})
        conv.origin.update({f"policies[{len(out)}]": where, f"policies[{len(out)}].description": f"{where}.resolution"})
        out.append(policy)
    for where, raw in conv.overrides:
        over, under = raw.get("overrider"), raw.get("overridden")
        who = _party(conv, over, f"{where}.overrider") if over is not None else None
        whom = _party(conv, under, f"{where}.overridden") if under is not None and under != "ALL" else None
        from otp_bot.store.domain.chart.oos.entities import slug

        label = (
            raw.get("id")
            or f"override-{who.holder if who else slug(str(over))}-{whom.holder if whom else slug(str(under))}"
        )
        overridden = whom.label if whom else ("every seat" if under == "ALL" else under)
        text = f"{who.label if who else over} may override {overridden}"
        if raw.get("condition"):
            text += f" when {raw['condition']}"
        if raw.get("scope"):
            text += f" (scope: {raw['scope']})"
        policy = {"name": names.claim(str(label), "override"), "description": text, "extra": _by_seat(conv, dict(raw))}
        if who:
            policy["winner"] = who.seat
        conv.origin[f"policies[{len(out)}]"] = where
        out.append(policy)
    return out
