"""OOS entities -> the chart's holders, seats, reporting lines, authority and approval routes.

- agent -> holder (kind agent, id = slug of its name) + seat (id = slug of its role,
  title = role, mission = first accountability, owns, does_not_own, authority). Status
  active / planned / deprecated -> active / planned / retired; a retired seat has no holder
  (the holder is kept), and topics a live seat owns are left off it (one owner per topic).
- human -> holder (kind human) + seat for the role. OTP's schema gives a human role no
  `name`: the role is its name then, and the import says so.
- Reporting lines: `reports_to` (either kind) wins; else an agent's `escalates_to`; else
  the first human whose `receives_escalations_from` names it; else the next level of
  `escalation_hierarchy` (level 1 reports to level 2, ...). An agent's supervisor is the
  first human up that chain: an unknown reference, a loop, or a chain with no human is an
  error, since every agent needs an accountable human.
- `authority_level` of an agent -> the seat's authority, which the gate enforces (README).
- `approves` -> approval routes (routes.py); the chart's holders and seats are built in
  chart_sections.py.
- `slack_user` and `email` (or the starter's `contact_email`) on a human fill the holder's.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Literal

from otp_bot.store.models import AUTHORITY_LEVELS

AGENT_STATUSES = {"active": "active", "planned": "planned", "deprecated": "retired"}
HUMAN_LEVELS = ("executive", "manager", "operator", "reviewer")
# Keys used, with the type the schema gives them; keys the schema has but the chart does not
# keep are noted once per list; anything else is noted with its path.
USED = {
    "id": str,
    "name": str,
    "role": str,
    "mission": str,
    "authority_level": str,
    "owns": list,
    "does_not_own": list,
    "escalates_to": str,
    "reports_to": str,
    "status": str,
    "receives_escalations_from": list,
    "approves": list,
    "slack_user": str,
    "email": str,
    "contact_email": str,
}
AGENT_KEYS = (
    "id",
    "name",
    "role",
    "mission",
    "authority_level",
    "owns",
    "does_not_own",
    "escalates_to",
    "reports_to",
    "status",
)
HUMAN_KEYS = (
    "id",
    "name",
    "role",
    "authority_level",
    "reports_to",
    "receives_escalations_from",
    "approves",
    "slack_user",
    "email",
    "contact_email",
)
NOT_KEPT = {
    "agent": ("inputs", "outputs", "tools", "platform", "related_claims"),
    "human": ("override_authority", "related_claims"),
}


def slug(text: str, limit: int = 64) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:limit].strip("-")


class Ids:
    """Hands out unique chart ids: the first `pulse` is `pulse`, the next `pulse-2`."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def claim(self, text: str, fallback: str) -> str:
        base = slug(text, 60) or slug(fallback, 60) or "x"
        found, n = base, 1
        while found in self.taken:
            n += 1
            found = f"{base}-{n}"
        self.taken.add(found)
        return found


@dataclass(eq=False)
class Entity:
    kind: Literal["agent", "human"]
    where: str
    raw: dict[str, Any]
    oos_id: str
    name: str
    role: str
    holder: str = ""
    seat: str = ""
    status: str = "active"
    authority: str | None = None
    duty: str = ""  # a role that describes the work, when the name titles the seat
    refs: dict[str, str] = field(default_factory=dict)  # reports_to / escalates_to as written
    bad_ref: bool = False
    target: Entity | None = None
    target_loc: str = ""
    supervisor: Entity | None = None

    @property
    def label(self) -> str:
        return self.name or self.oos_id or self.where

    def texts(self, key: str) -> list[tuple[int, str]]:
        value = self.raw.get(key) or []
        return [(i, v.strip()) for i, v in enumerate(value) if isinstance(v, str) and v.strip()]


@dataclass
class Converter:
    source: str
    problems: list[tuple[str, str]] = field(default_factory=list)
    report: list[str] = field(default_factory=list)
    origin: dict[str, str] = field(default_factory=dict)  # chart location -> OOS location
    agents: list[Entity] = field(default_factory=list)
    humans: list[Entity] = field(default_factory=list)
    by_id: dict[str, Entity] = field(default_factory=dict)
    by_label: dict[str, Entity | None] = field(default_factory=dict)  # None: ambiguous
    protocols: list[tuple[str, dict[str, Any], list[tuple[int, str]]]] = field(default_factory=list)
    overrides: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    hierarchy: list[tuple[str, Entity]] = field(default_factory=list)  # escalation levels, lowest first

    # -- reading -------------------------------------------------------------------------

    def typed(self, raw: dict[str, Any], key: str, where: str) -> Any:
        value = raw.get(key)
        want = USED[key]
        if value is None or value == "":
            return None
        if want is str and (isinstance(value, bool) or not isinstance(value, (str, int, float))):
            self.problems.append((f"{where}.{key}", f"expected text, got {type(value).__name__}"))
            return None
        if want is list:
            if not isinstance(value, list):
                self.problems.append((f"{where}.{key}", f"expected a list, got {type(value).__name__}"))
                return None
            for i, item in enumerate(value):
                if not isinstance(item, str) or not item.strip():
                    self.problems.append((f"{where}.{key}[{i}]", "expected non-empty text"))
            return value
        return str(value).strip()

    def read(self, items: list[Any], kind: Literal["agent", "human"]) -> list[Entity]:
        allowed = AGENT_KEYS if kind == "agent" else HUMAN_KEYS
        unkept: dict[str, int] = {}
        out = []
        for i, raw in enumerate(items):
            where = f"entities.{kind}s[{i}]"
            if not isinstance(raw, dict):
                self.problems.append((where, f"expected a mapping with id and role, got {type(raw).__name__}"))
                continue
            for key in raw:
                if key in NOT_KEPT[kind]:
                    unkept[key] = unkept.get(key, 0) + 1
                elif key not in allowed:
                    self.report.append(f"{where}.{key}: unknown key; not imported: {raw[key]!r}")
            values = {k: self.typed(raw, k, where) for k in allowed}
            if not values["id"]:
                self.problems.append((f"{where}.id", "missing `id`"))
            if not values["role"] and not values["name"]:
                self.problems.append((f"{where}.role", "missing `role` (and no `name`)"))
            name, role = values["name"] or values["role"] or "", values["role"] or values["name"] or ""
            if not values["name"] and values["role"]:
                self.report.append(f"{where}: no `name`; the holder is named after the role, {role!r}")
            ent = Entity(kind, where, raw, values["id"] or "", name, role)
            ent.refs = {k: values[k] for k in ("reports_to", "escalates_to") if values.get(k)}
            self.level(ent, values["authority_level"])
            if ent.oos_id:
                other = self.by_id.get(ent.oos_id.casefold())
                if other:
                    self.problems.append((f"{where}.id", f"duplicate id {ent.oos_id!r} (also {other.where}.id)"))
                else:
                    self.by_id[ent.oos_id.casefold()] = ent
            if kind == "agent":
                status = raw.get("status", "active")
                if isinstance(status, str) and status in AGENT_STATUSES:
                    ent.status = AGENT_STATUSES[status]
                else:
                    self.problems.append((f"{where}.status", f"{status!r}: use active, planned or deprecated"))
            out.append(ent)
        for key, n in unkept.items():
            self.report.append(f"entities.{kind}s[].{key}: not kept, the chart has no place for it ({n} {kind}s)")
        return out

    def level(self, ent: Entity, value: str | None) -> None:
        if value is None:
            return
        where = f"{ent.where}.authority_level"
        if ent.kind == "human":
            if value not in HUMAN_LEVELS and value not in AUTHORITY_LEVELS:
                self.report.append(f"{where}: {value!r} is not a level OTP's schema names; not kept")
            else:
                self.report.append(
                    f"{where}: {value!r} not kept: people decide drafts, the gate does not hold them back"
                )
        elif value in AUTHORITY_LEVELS:
            ent.authority = value
        else:
            self.report.append(
                f"{where}: {value!r} is not one of {', '.join(AUTHORITY_LEVELS)}; not kept, so "
                "its drafts wait for a person like any other"
            )

    def resolve(self, ref: str) -> Entity | None:
        """An OOS id; failing that, a name or role that only one entity has."""
        return self.by_id.get(ref.casefold()) or self.by_label.get(ref.casefold())

    def index_labels(self) -> None:
        for ent in self.humans + self.agents:
            for label in {ent.name.casefold(), ent.role.casefold()} - {""}:
                self.by_label[label] = None if label in self.by_label and self.by_label[label] is not ent else ent

    # -- structure -----------------------------------------------------------------------

    def reference(self, ent: Entity, key: str) -> None:
        loc = f"{ent.where}.{key}"
        target = self.resolve(ent.refs[key])
        if target is None:
            ent.bad_ref = True
            self.problems.append((loc, f"unknown id {ent.refs[key]!r}: name an agent or human id from this file"))
        elif target is ent:
            ent.bad_ref = True
            self.problems.append(
                (loc, f"{ent.label} cannot {'report' if key == 'reports_to' else 'escalate'} to itself")
            )
        else:
            ent.target, ent.target_loc = target, loc

    def escalations(self) -> None:
        receivers: dict[Entity, list[tuple[Entity, str]]] = {}
        for h in self.humans:
            for j, ref in h.texts("receives_escalations_from"):
                loc = f"{h.where}.receives_escalations_from[{j}]"
                target = self.resolve(ref)
                if target is None:
                    self.report.append(f"{loc}: unknown id {ref!r}; ignored")
                elif target is not h:
                    receivers.setdefault(target, []).append((h, loc))
        levels = [e for _, e in self.hierarchy]
        for ent in self.humans + self.agents:
            key = "reports_to" if "reports_to" in ent.refs else "escalates_to" if "escalates_to" in ent.refs else None
            if key:
                self.reference(ent, key)
            elif found := receivers.get(ent):
                (ent.target, ent.target_loc), rest = found[0], found[1:]
                if rest:
                    self.report.append(
                        f"{ent.where}: reports to {ent.target.label}'s seat; also escalates to "
                        f"{', '.join(r.label for r, _ in rest)} (a seat has one reporting line)"
                    )
            elif ent in levels and levels.index(ent) + 1 < len(levels):
                (loc, ent.target) = self.hierarchy[levels.index(ent) + 1]
                ent.target_loc = loc
                self.report.append(f"{loc}: {ent.label} reports to {ent.target.label}, the next escalation level")
            elif ent.kind == "agent" and levels and levels[0] is not ent:
                ent.target_loc, ent.target = self.hierarchy[0]
                self.report.append(
                    f"{ent.where}: no `escalates_to`; escalates to {ent.target.label}, escalation level 1"
                )
        for a in self.agents:
            chain, cur = [a], a.target
            while cur is not None and cur.kind == "agent" and cur not in chain:
                chain.append(cur)
                cur = cur.target
            names = " -> ".join(e.label for e in chain)
            if cur is not None and cur.kind == "human":
                a.supervisor = cur
            elif cur is not None:
                self.problems.append(
                    (f"{a.where}.escalates_to", f"escalations go round in a loop: {names} -> {cur.label}")
                )
            elif not chain[-1].bad_ref:
                self.problems.append(
                    (
                        f"{a.where}.escalates_to",
                        f"no human in the escalation chain {names}: every agent "
                        "needs an accountable human (escalate to a human id, or list the agent in a "
                        "human's receives_escalations_from)",
                    )
                )

    def read_hierarchy(self, value: Any) -> None:
        where = "entities.escalation_hierarchy"
        if value is None:
            return
        levels = value.get("levels") if isinstance(value, dict) else None
        if not isinstance(levels, list):
            self.problems.append((f"{where}.levels", "expected a list of levels (level, handler, trigger)"))
            return
        for key in value:
            if key != "levels":
                self.report.append(f"{where}.{key}: not kept: {value[key]!r}")
        ordered = []
        for i, level in enumerate(levels):
            loc = f"{where}.levels[{i}]"
            if not isinstance(level, dict) or not isinstance(level.get("handler"), str):
                self.problems.append((f"{loc}.handler", "expected a level with a `handler` id"))
                continue
            if not isinstance(level.get("level", i + 1), int) or isinstance(level.get("level"), bool):
                self.problems.append((f"{loc}.level", "expected a whole number"))
                continue
            handler = self.resolve(level["handler"])
            if handler is None:
                self.problems.append((f"{loc}.handler", f"unknown id {level['handler']!r}"))
                continue
            ordered.append((level.get("level", i + 1), f"{loc}.handler", handler))
            rest = {k: v for k, v in level.items() if k not in ("level", "handler")}
            if rest:
                self.report.append(f"{loc}: kept only as a reporting line: {rest!r}")
        self.hierarchy = [(loc, ent) for _, loc, ent in sorted(ordered, key=lambda t: t[0])]

    # -- the chart -----------------------------------------------------------------------
