"""Import the OTP platform's own chart format (the "OOS entity format") as a `ChartSpec`.

The input is JSON, or the YAML front matter of an `.oos.md` file, with `entities.agents`,
`entities.humans`, `entities.conflict_protocols` and `entities.override_rules`.
`convert_oos_text` returns the validated chart plus a report: one readable line for each
thing the chart has no place for, so nothing is dropped silently. Broken input raises
`ChartErrors` listing every problem at once, located in the OOS file
(`entities.agents[2].escalates_to`), not in the chart it would have become.

Mapping
- org: `organization` / `org` / `name` / `company` (text, or a mapping with `name` and
  `timezone`), plus a top-level `timezone`. Other top-level keys (`version`, ...) are reported.
- agent -> holder (kind agent, id = slug of its name) + seat (id = slug of its role,
  title = role, mission = first accountability, owns, does_not_own). Status active /
  planned / deprecated -> active / planned / retired. A retired seat has no holder (the
  holder is kept), and topics it owned that a live seat owns now are left off it, because
  the chart allows one owner per topic.
- An agent escalates to `escalates_to`, or else to the first human whose
  `receives_escalations_from` names it. Its seat reports to that one's seat, and its
  supervisor is the first human up that chain. An unknown `escalates_to`, a loop, or a
  chain with no human in it is an error.
- human -> holder (kind human) + seat for the role. A human named in another human's
  `receives_escalations_from` gets a seat reporting to that human's seat; otherwise none.
- `approves` items that name an agent (by id, name or role) -> one approval per agent
  seat, whose approvers are all the humans who approve it. Kinds of output are reported.
- conflict protocol -> policy named from `name`, `id` or its parties; winner = the
  winner's seat; description = `resolution`; extra = every other original field. When
  `detection` names an expansion and an at-risk / churn-risk flag, hold_kind=expansion and
  while_flag=at-risk are set (and reported, as they are read from prose).
- override rule -> policy `override-<overrider>-<overridden>`, winner = the overrider's
  seat, extra = the rule verbatim.
- customer_facing is set when role, mission or owns pair an outward act (outreach, email,
  reply, pitch, ...) with an outside party (client, customer, prospect, lead); reported.
- Reported, not kept: OOS ids, authority levels (the chart has no column for them),
  `override_authority`, unknown keys, and references to unknown ids outside `escalates_to`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from otp_bot.store.domain.chartfile import ChartErrors, ChartSpec, normalize_topic, parse_yaml, validate_chart

AGENT_LEVELS = ("autonomous", "semi_autonomous", "supervised", "advisory")
HUMAN_LEVELS = ("executive", "manager", "operator", "reviewer")
AGENT_STATUSES = {"active": "active", "planned": "planned", "deprecated": "retired"}
AGENT_KEYS = ("id", "name", "role", "mission", "authority_level", "owns", "does_not_own", "escalates_to", "status")
HUMAN_KEYS = ("id", "name", "role", "authority_level", "override_authority", "receives_escalations_from", "approves")
ENTITY_KEYS = ("agents", "humans", "conflict_protocols", "override_rules")
ORG_KEYS = ("organization", "org", "name", "company")

_OUTWARD = re.compile(r"\b(outreach|e-?mails?|repl(y|ies)|pitch(es)?|messages?|proposals?|sends?|communications?)\b", re.I)
_OUTSIDE = re.compile(r"\b(clients?|customers?|prospect\w*|leads?)\b", re.I)
_FLAG = re.compile(r"\b(at[-\s]risk|churn[-\s]risk)\b", re.I)
_EXPANSION = re.compile(r"\b(expansion|upsell|cross-sell)\b", re.I)


def slug(text: str, limit: int = 64) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:limit].strip("-")


class _Ids:
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
class _Entity:
    kind: Literal["agent", "human"]
    where: str
    raw: dict[str, Any]
    oos_id: str
    name: str
    role: str
    holder: str = ""
    seat: str = ""
    status: str = "active"
    escalates_ref: str = ""
    mission: str = ""
    owns: list[tuple[int, str]] = field(default_factory=list)  # (index in the file, topic)
    does_not_own: list[tuple[int, str]] = field(default_factory=list)
    approves: list[tuple[int, str]] = field(default_factory=list)
    receives: list[tuple[int, str]] = field(default_factory=list)
    bad_ref: bool = False
    target: _Entity | None = None
    target_loc: str = ""
    supervisor: _Entity | None = None

    @property
    def label(self) -> str:
        return self.name or self.oos_id or self.where


@dataclass
class _Converter:
    source: str
    problems: list[tuple[str, str]] = field(default_factory=list)
    report: list[str] = field(default_factory=list)
    origin: dict[str, str] = field(default_factory=dict)  # chart location -> OOS location
    agents: list[_Entity] = field(default_factory=list)
    humans: list[_Entity] = field(default_factory=list)
    by_id: dict[str, _Entity] = field(default_factory=dict)
    by_label: dict[str, _Entity | None] = field(default_factory=dict)  # None: ambiguous
    protocols: list[tuple[str, dict[str, Any], list[tuple[int, str]]]] = field(default_factory=list)  # where, raw, parties
    overrides: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    # -- reading -------------------------------------------------------------------------

    def fail(self) -> ChartErrors:
        return ChartErrors(self.source, self.problems)

    def text(self, raw: dict[str, Any], key: str, where: str, required: bool = False) -> str:
        value = raw.get(key)
        if value is None or value == "":
            if required:
                self.problems.append((f"{where}.{key}", f"missing `{key}`"))
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.problems.append((f"{where}.{key}", f"expected text, got {type(value).__name__}"))
            return ""
        return str(value).strip()

    def texts(self, raw: dict[str, Any], key: str, where: str) -> list[tuple[int, str]]:
        value = raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problems.append((f"{where}.{key}", "expected a list"))
            return []
        out = []
        for i, item in enumerate(value):
            if isinstance(item, str) and item.strip():
                out.append((i, item.strip()))
            else:
                self.problems.append((f"{where}.{key}[{i}]", "expected non-empty text"))
        return out

    def items(self, entities: dict[str, Any], key: str) -> list[Any]:
        value = entities.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problems.append((f"entities.{key}", "expected a list"))
            return []
        return value

    def org(self, data: dict[str, Any]) -> dict[str, Any]:
        org: dict[str, Any] = {}
        used = {"entities", "timezone"}
        for key in ORG_KEYS:
            if key not in data:
                continue
            used.add(key)
            value, where = data[key], key
            if isinstance(value, dict):
                where = f"{key}.name"
                for sub in value:
                    if sub not in ("name", "timezone"):
                        self.report.append(f"{key}.{sub}: not kept (the chart has no place for it)")
                if value.get("timezone") is not None:
                    org["timezone"] = value["timezone"]
                    self.origin["org.timezone"] = f"{key}.timezone"
                value = value.get("name")
            if isinstance(value, str) and value.strip():
                org["name"] = value.strip()
                self.origin["org.name"] = where
            else:
                self.problems.append((where, "expected the organization's name"))
            break
        else:
            self.problems.append(("organization", "missing: name the organization (`organization: Acme Agency`)"))
        if data.get("timezone") is not None:
            if "timezone" in org and org["timezone"] != data["timezone"]:
                self.report.append(f"{self.origin['org.timezone']}: {org['timezone']!r} ignored; the top-level timezone wins")
            org["timezone"] = data["timezone"]
            self.origin["org.timezone"] = "timezone"
        for key in data:
            if key not in used:
                self.report.append(f"{key}: not kept (the chart has no place for it): {data[key]!r}")
        return org

    def read(self, items: list[Any], kind: Literal["agent", "human"]) -> list[_Entity]:
        allowed = AGENT_KEYS if kind == "agent" else HUMAN_KEYS
        out = []
        for i, raw in enumerate(items):
            where = f"entities.{kind}s[{i}]"
            if not isinstance(raw, dict):
                self.problems.append((where, f"expected a mapping with id, name and role, got {type(raw).__name__}"))
                continue
            ent = _Entity(kind, where, raw, self.text(raw, "id", where, True), self.text(raw, "name", where, True),
                          self.text(raw, "role", where, True))
            for key in raw:
                if key not in allowed:
                    self.report.append(f"{where}.{key}: unknown key; not imported: {raw[key]!r}")
            if ent.oos_id:
                other = self.by_id.get(ent.oos_id.casefold())
                if other:
                    self.problems.append((f"{where}.id", f"duplicate id {ent.oos_id!r} (also {other.where}.id)"))
                else:
                    self.by_id[ent.oos_id.casefold()] = ent
            out.append(ent)
        return out

    def resolve(self, ref: str) -> _Entity | None:
        """An OOS id; failing that, a name or role that only one entity has."""
        return self.by_id.get(ref.casefold()) or self.by_label.get(ref.casefold())

    def index_labels(self) -> None:
        for ent in self.humans + self.agents:
            for label in {ent.name.casefold(), ent.role.casefold()} - {""}:
                self.by_label[label] = None if label in self.by_label and self.by_label[label] is not ent else ent

    def authority(self, ent: _Entity, levels: dict[str, list[str]]) -> None:
        value = ent.raw.get("authority_level")
        if value is None:
            return
        known = AGENT_LEVELS if ent.kind == "agent" else HUMAN_LEVELS
        if not isinstance(value, str) or value not in known:
            self.report.append(f"{ent.where}.authority_level: {value!r} is not one of the {ent.kind} levels ({', '.join(known)})")
        levels.setdefault(str(value), []).append(ent.label)

    # -- structure -----------------------------------------------------------------------

    def escalations(self) -> None:
        receivers: dict[_Entity, list[tuple[_Entity, str]]] = {}
        for h in self.humans:
            for j, ref in h.receives:
                loc = f"{h.where}.receives_escalations_from[{j}]"
                target = self.resolve(ref)
                if target is None:
                    self.report.append(f"{loc}: unknown id {ref!r}; ignored")
                elif target is h:
                    self.report.append(f"{loc}: {h.label} names themself; ignored")
                else:
                    receivers.setdefault(target, []).append((h, loc))
        for h in self.humans:
            if found := receivers.get(h):
                (h.target, h.target_loc), rest = found[0], found[1:]
                if rest:
                    others = ", ".join(r.label for r, _ in rest)
                    self.report.append(f"{h.where}: reports to {h.target.label}'s seat; also escalates to {others} "
                                       "(a seat has one reporting line)")
        for a in self.agents:
            loc = f"{a.where}.escalates_to"
            if a.escalates_ref:
                target = self.resolve(a.escalates_ref)
                if target is None:
                    a.bad_ref = True
                    self.problems.append((loc, f"unknown id {a.escalates_ref!r}: name an agent or human id from this file"))
                elif target is a:
                    a.bad_ref = True
                    self.problems.append((loc, "an agent cannot escalate to itself"))
                else:
                    a.target, a.target_loc = target, loc
            elif found := receivers.get(a):
                a.target, a.target_loc = found[0]
        for a in self.agents:
            chain, cur = [a], a.target
            while cur is not None and cur.kind == "agent" and cur not in chain:
                chain.append(cur)
                cur = cur.target
            names = " -> ".join(e.label for e in chain)
            if cur is not None and cur.kind == "human":
                a.supervisor = cur
            elif cur is not None:
                self.problems.append((f"{a.where}.escalates_to", f"escalations go round in a loop: {names} -> {cur.label}"))
            elif not chain[-1].bad_ref:
                self.problems.append((f"{a.where}.escalates_to", f"no human in the escalation chain {names}: every agent "
                                      "needs an accountable human (escalate to a human id, or list the agent in a "
                                      "human's receives_escalations_from)"))
            if a.target and a.target.status == "retired" and a.status != "retired":
                self.report.append(f"{a.target_loc}: {a.label} escalates to {a.target.label}, who is deprecated")

    def build(self, org: dict[str, Any]) -> dict[str, Any]:
        holder_ids, seat_ids = _Ids(), _Ids()
        people = self.humans + self.agents
        for ent in people:
            ent.holder = holder_ids.claim(ent.name, ent.oos_id)
            ent.seat = seat_ids.claim(ent.role, ent.oos_id)
            if ent.holder != slug(ent.name, 60):
                self.report.append(f"{ent.where}: holder id {ent.holder!r} (the name {ent.name!r} gives a taken or empty id)")
            if ent.seat != slug(ent.role, 60):
                self.report.append(f"{ent.where}: seat id {ent.seat!r} (the role {ent.role!r} gives a taken or empty id)")
        owner: dict[str, str] = {}
        for a in self.agents:
            if a.status != "retired":
                for _, topic in a.owns:
                    owner.setdefault(normalize_topic(topic), a.seat)

        holders: list[dict[str, Any]] = []
        seats: list[dict[str, Any]] = []
        facing: list[str] = []
        for ent in people:
            h, s = f"holders[{len(holders)}]", f"seats[{len(seats)}]"
            holder: dict[str, Any] = {"id": ent.holder, "name": ent.name, "kind": ent.kind}
            seat: dict[str, Any] = {"id": ent.seat, "title": ent.role}
            self.origin.update({h: ent.where, f"{h}.id": f"{ent.where}.name", f"{h}.name": f"{ent.where}.name",
                                s: ent.where, f"{s}.id": f"{ent.where}.role", f"{s}.title": f"{ent.where}.role"})
            if ent.supervisor:
                holder["supervisor"] = ent.supervisor.holder
                self.origin[f"{h}.supervisor"] = f"{ent.where}.escalates_to"
            if ent.status != "retired":
                seat["holder"] = ent.holder
            if ent.status != "active":
                seat["status"] = ent.status
            if ent.target:
                seat["reports_to"] = ent.target.seat
                self.origin[f"{s}.reports_to"] = ent.target_loc
            if ent.kind == "agent":
                if ent.mission:
                    seat["accountabilities"] = [ent.mission]
                    self.origin[f"{s}.accountabilities[0]"] = f"{ent.where}.mission"
                owns = []
                for i, topic in ent.owns:
                    other = owner.get(normalize_topic(topic))
                    if ent.status == "retired" and other:
                        self.report.append(f"{ent.where}.owns[{i}]: {topic!r} is owned by seat {other!r} now; "
                                           f"left off the retired seat {ent.seat!r}")
                        continue
                    self.origin[f"{s}.owns[{len(owns)}]"] = f"{ent.where}.owns[{i}]"
                    owns.append(topic)
                for k, (i, _) in enumerate(ent.does_not_own):
                    self.origin[f"{s}.does_not_own[{k}]"] = f"{ent.where}.does_not_own[{i}]"
                seat.update({"owns": owns, "does_not_own": [t for _, t in ent.does_not_own]})
                about = " ".join([ent.role, ent.mission, *owns])
                if _OUTWARD.search(about) and _OUTSIDE.search(about):
                    seat["customer_facing"] = True
                    facing.append(ent.seat)
                if ent.status == "retired":
                    self.report.append(f"{ent.where}: {ent.label} is deprecated: seat {ent.seat!r} is retired with "
                                       f"no holder; holder {ent.holder!r} is kept")
            holders.append(holder)
            seats.append(seat)
        if facing:
            self.report.append(f"customer-facing, read from role, mission and owns (check them): {', '.join(facing)}")
        if self.humans:
            self.report.append("the format has no Slack user ids: add `slack_user` for "
                               f"{', '.join(h.holder for h in self.humans)} so approvals can reach them")
        ids = ", ".join(f"{e.oos_id} = {e.holder}" for e in people if e.oos_id)
        self.report.append(f"OOS ids are not kept; holders are named by slug: {ids}")
        return {"org": org, "holders": holders, "seats": seats, "approvals": self.approvals(),
                "policies": self.policies()}

    def approvals(self) -> list[dict[str, Any]]:
        by_seat: dict[str, dict[str, Any]] = {}
        for h in self.humans:
            for j, ref in h.approves:
                loc = f"{h.where}.approves[{j}]"
                target = self.resolve(ref)
                if target is None:
                    self.report.append(f"{loc}: {ref!r} names no agent; not imported (approvals are per agent seat)")
                elif target.kind == "human":
                    self.report.append(f"{loc}: {ref!r} is a human; only agents' output is approved; ignored")
                elif target.status == "retired":
                    self.report.append(f"{loc}: {target.label} is deprecated; no approval for a retired seat")
                else:
                    if target.seat not in by_seat:
                        self.origin[f"approvals[{len(by_seat)}]"] = loc
                        by_seat[target.seat] = {"seats": [target.seat], "approvers": []}
                    if h.holder not in by_seat[target.seat]["approvers"]:
                        by_seat[target.seat]["approvers"].append(h.holder)
        return list(by_seat.values())

    # -- policies ------------------------------------------------------------------------

    def seat_of(self, ref: Any, loc: str) -> _Entity | None:
        if not isinstance(ref, str) or not ref.strip():
            self.report.append(f"{loc}: {ref!r} is not an id; ignored")
            return None
        ent = self.resolve(ref.strip())
        if ent is None:
            self.report.append(f"{loc}: unknown id {ref!r}; ignored")
        return ent

    def policies(self) -> list[dict[str, Any]]:
        names = _Ids()
        out: list[dict[str, Any]] = []
        for where, raw, refs in self.protocols:
            parties = [p for j, ref in refs if (p := self.seat_of(ref, f"{where}.parties[{j}]"))]
            winner = self.seat_of(raw["winner"], f"{where}.winner") if raw.get("winner") is not None else None
            if winner and parties and winner not in parties:
                self.report.append(f"{where}.winner: {winner.label} is not one of the parties")
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
                self.report.append(f"{where}: policy {policy['name']!r} holds expansion drafts while the subject is "
                                   f"flagged at-risk (read from {flag.group(0)!r} in `detection`; check it)")
            policy["extra"] = {k: v for k, v in raw.items() if k not in ("resolution", named_by)}
            self.origin.update({f"policies[{len(out)}]": where, f"policies[{len(out)}].description": f"{where}.resolution"})
            out.append(policy)
        for where, raw in self.overrides:
            over, under = raw.get("overrider"), raw.get("overridden")
            who = self.seat_of(over, f"{where}.overrider") if over is not None else None
            whom = self.seat_of(under, f"{where}.overridden") if under is not None else None
            label = f"override-{who.holder if who else slug(str(over))}-{whom.holder if whom else slug(str(under))}"
            text = f"{who.label if who else over} may override {whom.label if whom else under}"
            if raw.get("condition"):
                text += f" when {raw['condition']}"
            if raw.get("scope"):
                text += f" (scope: {raw['scope']})"
            policy = {"name": names.claim(label, "override"), "description": text, "extra": dict(raw)}
            if who:
                policy["winner"] = who.seat
            self.origin[f"policies[{len(out)}]"] = where
            out.append(policy)
        return out

    # -- the whole -----------------------------------------------------------------------

    def run(self, data: Any) -> ChartSpec:
        if not isinstance(data, dict):
            raise ChartErrors(self.source, [("", "expected a mapping with `organization` and `entities`")])
        org = self.org(data)
        entities = data.get("entities")
        if not isinstance(entities, dict):
            stray = [k for k in ENTITY_KEYS if k in data]
            hint = f" ({', '.join(stray)} belong under it)" if stray else ""
            self.problems.append(("entities", ("missing" if entities is None else "expected a mapping") +
                                  f": put agents, humans, conflict_protocols and override_rules under `entities`{hint}"))
            raise self.fail()
        for key in entities:
            if key not in ENTITY_KEYS:
                self.report.append(f"entities.{key}: not imported (the importer reads {', '.join(ENTITY_KEYS)})")
        self.agents = self.read(self.items(entities, "agents"), "agent")
        self.humans = self.read(self.items(entities, "humans"), "human")
        if not self.agents and not self.humans and not self.problems:
            self.problems.append(("entities", "no agents and no humans: nothing to import"))
        self.index_labels()
        levels: dict[str, list[str]] = {}
        for a in self.agents:
            status = a.raw.get("status", "active")
            if isinstance(status, str) and status in AGENT_STATUSES:
                a.status = AGENT_STATUSES[status]
            else:
                self.problems.append((f"{a.where}.status", f"{status!r}: use active, planned or deprecated"))
            a.escalates_ref = self.text(a.raw, "escalates_to", a.where)
            a.mission = self.text(a.raw, "mission", a.where)
            a.owns = self.texts(a.raw, "owns", a.where)
            a.does_not_own = self.texts(a.raw, "does_not_own", a.where)
            self.authority(a, levels)
        for h in self.humans:
            self.authority(h, levels)
            h.approves = self.texts(h.raw, "approves", h.where)
            h.receives = self.texts(h.raw, "receives_escalations_from", h.where)
            if h.raw.get("override_authority") not in (None, False, "", []):
                self.report.append(f"{h.where}.override_authority: not kept (no column; see override_rules): "
                                   f"{h.raw['override_authority']!r}")
        self.protocols = [(where, raw, self.texts(raw, "parties", where))
                          for where, raw in self.mappings(entities, "conflict_protocols", ())]
        self.overrides = self.mappings(entities, "override_rules", ("overrider", "overridden"))
        self.escalations()
        if self.problems:
            raise self.fail()
        if levels:
            summary = "; ".join(f"{level}: {', '.join(who)}" for level, who in levels.items())
            self.report.append(f"authority levels are not kept (the chart has no column for them): {summary}")
        data = self.build(org)
        try:
            chart = validate_chart(data, self.source)
        except ChartErrors as exc:
            raise ChartErrors(self.source, [(self.translate(loc), msg) for loc, msg in exc.problems]) from None
        return chart

    def mappings(self, entities: dict[str, Any], key: str, required: tuple[str, ...]) -> list[tuple[str, dict[str, Any]]]:
        out = []
        for i, raw in enumerate(self.items(entities, key)):
            where = f"entities.{key}[{i}]"
            if not isinstance(raw, dict):
                self.problems.append((where, f"expected a mapping, got {type(raw).__name__}"))
                continue
            for name in required:
                if raw.get(name) in (None, ""):
                    self.problems.append((f"{where}.{name}", f"missing `{name}`"))
            out.append((where, raw))
        return out

    def translate(self, loc: str) -> str:
        """Point a problem the chart validator found back at the OOS field it came from."""
        probe = loc
        while probe not in self.origin:
            shorter = re.sub(r"(\.[^.\[]+|\[\d+\])$", "", probe)
            if shorter == probe:
                return loc
            probe = shorter
        return self.origin[probe] if probe == loc else f"{self.origin[probe]} (chart {loc})"


class _DuplicateKey(Exception):
    pass


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _parse(text: str, source: str) -> Any:
    text = text.removeprefix("\ufeff")
    head = text.lstrip()
    if head.startswith("---"):
        lines = text.splitlines()
        start = next(i for i, line in enumerate(lines) if line.strip())
        if lines[start].strip() != "---":
            raise ChartErrors(source, [(f"line {start + 1}", "front matter opens with a line that is only `---`")])
        end = next((j for j in range(start + 1, len(lines)) if lines[j].strip() in ("---", "...")), None)
        if end is None:
            raise ChartErrors(source, [(f"line {start + 1}", "the front matter is not closed: end it with a `---` line")])
        # Blank lines in front keep YAML's line numbers equal to the file's.
        data = parse_yaml("\n" * (start + 1) + "\n".join(lines[start + 1:end]), source)
        if data is None:
            raise ChartErrors(source, [(f"line {start + 1}", "the front matter is empty")])
        return data
    if head.startswith(("{", "[")) or source.lower().endswith(".json"):
        try:
            return json.loads(text, object_pairs_hook=_json_object)
        except json.JSONDecodeError as exc:
            raise ChartErrors(source, [(f"line {exc.lineno}, column {exc.colno}", f"not valid JSON: {exc.msg}")]) from None
        except _DuplicateKey as exc:
            raise ChartErrors(source, [("", f"not valid here: duplicate key {exc.args[0]!r}")]) from None
    raise ChartErrors(source, [("", "neither JSON nor an .oos.md file: the OOS chart is a JSON object, or YAML "
                                    "front matter between `---` lines at the top of a Markdown file")])


def convert_oos_text(text: str, source: str) -> tuple[ChartSpec, list[str]]:
    """The chart an OOS document describes, and a report of what it could not keep."""
    converter = _Converter(source)
    chart = converter.run(_parse(text, source))
    return chart, converter.report


def convert_oos_file(path: str | Path) -> tuple[ChartSpec, list[str]]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ChartErrors(str(path), [("", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ChartErrors(str(path), [("", f"cannot be read: {exc}")]) from None
    return convert_oos_text(text, str(path))
