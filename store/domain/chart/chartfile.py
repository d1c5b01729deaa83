"""The chart file: its schema, and loading it with every error located.

`load_chart(path)` returns a validated `ChartSpec` or raises `ChartErrors` listing every
problem as `file: path: what is wrong`, all at once. Nothing here touches the database.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from otp_bot.store.domain.chart.durations import format_minutes, parse_minutes
from otp_bot.store.domain.chart.rule_spec import RuleSpec
from otp_bot.store.domain.errors import Invalid
from otp_bot.store.domain.rhythm import cron
from otp_bot.store.domain.scorecard import formula as formulas
from otp_bot.store.domain.scorecard.goals import parse_goal
from otp_bot.store.domain.scorecard.measures import (
    DEFAULT_CURRENCY,
    KIND_WORDS,
    KINDS,
    Measure,
    compact,
    currency_code,
    read_measure,
)
from otp_bot.store.domain.text_rules import clean_text
from otp_bot.store.models import AGGREGATIONS, AUTHORITY_LEVELS, CADENCES
from otp_bot.store.models import RUN_POSTS as POSTS  # what a schedule can post


def _by_text_rule(multiline: bool):
    """Chart strings follow the one text rule (text_rules): no control characters, nothing
    invisible; titles, names and the like are one line."""

    def check(value: str) -> str:
        try:
            cleaned = clean_text(value, "the text", multiline=multiline)
        except Invalid as exc:
            raise ValueError(exc.message.removeprefix("the text ")) from None
        if value and not cleaned:
            raise ValueError("is empty once invisible characters are removed")
        return cleaned

    return AfterValidator(check)


Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), _by_text_rule(False)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), _by_text_rule(False)]
Description = Annotated[str, _by_text_rule(True)]
SlackId = Annotated[str, StringConstraints(pattern=r"^[UWCGDS][A-Z0-9]{2,31}$")]
# Where a newcomer finds a channel's id: the name (`general`) is what they know.
CHANNEL_HELP = (
    "a channel is named by its id (C followed by letters and digits, like C0123ABCD), not its name: "
    "in Slack, open the channel's details (click its name) and find the id at the bottom of the About "
    "tab, or copy the channel's link, whose last part is the id"
)
# Operators written the other way round or as one character: what they mean.
_GOAL_TYPOS = (("=>", ">="), ("=<", "<="), ("≥", ">="), ("≤", "<="), ("=>=", ">="), ("!=", None), ("<>", None))


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def decimal_mark_named(value: object) -> object:
    """`comma` and `point` for the marks themselves: a bare comma must be quoted in YAML."""
    named = {"comma": ",", "point": ".", "dot": ".", "period": "."}
    return named.get(value.strip().lower(), value.strip()) if isinstance(value, str) else value


def _known_zone(value: str | None) -> str | None:
    if value is not None:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}; use an IANA name like America/New_York") from None
    return value


class OrgSpec(Spec):
    name: Text
    timezone: str = "UTC"
    # A Slack channel where seat-to-seat messages are mirrored, so people see what agents agree.
    coordination_channel: str | None = None
    # How the org writes decimals: "." (1,250.50) or "," (1.250,50). Unset, a value whose only
    # separator could be either (`1,250`) is refused as ambiguous rather than guessed.
    decimal_mark: Literal[".", ","] | None = None
    # The currency of money metrics that name none: an ISO code (`EUR`), or its symbol.
    currency: str = DEFAULT_CURRENCY

    _zone = field_validator("timezone")(_known_zone)

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, value: object) -> str:
        return currency_code(str(value))

    @field_validator("decimal_mark", mode="before")
    @classmethod
    def _mark(cls, value: object) -> object:
        return decimal_mark_named(value)

    @field_validator("coordination_channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[CG][A-Z0-9]{2,31}$", value):
            raise ValueError(f"{value!r} is not a channel id; {CHANNEL_HELP}")
        return value


class HolderSpec(Spec):
    id: Id
    name: Text
    kind: Literal["human", "agent"]
    slack_user: SlackId | None = None
    email: Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    supervisor: Id | None = None


class MetricSpec(Spec):
    """A metric. `unit` is what people write (`days`, `hours`, `NPS`, `ratio`, `€`, `calls`);
    `kind` and `currency` are needed only where the unit alone does not say (measures.py).
    Once validated, the three hold the metric's measure in full: kind always, unit where it
    has one, currency for money."""

    id: Id
    name: Text
    kind: str | None = None
    currency: str | None = None
    unit: str | None = Field(default=None, validate_default=True)
    goal: str
    cadence: Literal[CADENCES] = "weekly"  # type: ignore[valid-type]
    aggregation: Literal[AGGREGATIONS] = "last"  # type: ignore[valid-type]
    formula: str | None = None

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: Any) -> str | None:
        if value is not None and str(value).strip().lower() not in KIND_WORDS:
            raise ValueError(
                f"unknown kind {value!r}; use one of {', '.join(KINDS)} (or leave it out: "
                "`unit: days`, `unit: NPS` or `unit: €` say it)"
            )
        return None if value is None else str(value).strip()

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, value: Any, info) -> str | None:
        return None if value is None else currency_code(str(value), _org_currency(info))

    @field_validator("unit", mode="before")
    @classmethod
    def _unit(cls, value: Any, info) -> str | None:
        unit = None if value is None else str(value).strip()
        if unit:
            try:
                unit = clean_text(unit, "the unit", multiline=False)
            except Invalid as exc:
                raise ValueError(exc.message.removeprefix("the unit ")) from None
        if "kind" in info.data and "currency" in info.data:  # else their own errors say what is wrong
            read_measure(unit, info.data["kind"], info.data["currency"], _org_currency(info))  # ValueError: what
        return unit

    @model_validator(mode="after")
    def _measure_in_full(self, info) -> MetricSpec:
        # The unit's check above passed, so this cannot fail.
        self.kind, self.unit, self.currency = read_measure(self.unit, self.kind, self.currency, _org_currency(info))
        return self

    @property
    def measure(self) -> Measure:
        return Measure(self.kind or "number", self.unit, self.currency)

    @field_validator("goal", mode="before")
    @classmethod
    def _goal(cls, value: Any, info) -> str:
        _goal_typo(str(value))
        try:
            measure = read_measure(info.data["unit"], info.data["kind"], info.data["currency"], _org_currency(info))
        except (KeyError, ValueError):
            measure = Measure()  # the unit's own error says what is wrong with it
        try:
            mark = (info.context or {}).get("decimal_mark")  # the org's, set by validate_chart
            return parse_goal(str(value), measure, mark, _org_currency(info)).to_text(measure)
        except Invalid as exc:
            raise ValueError(exc.message) from None

    @field_validator("formula")
    @classmethod
    def _formula(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                formulas.validate(value)
            except Invalid as exc:
                raise ValueError(exc.message) from None
        return value


def _org_currency(info: Any) -> str:
    return (info.context or {}).get("currency") or DEFAULT_CURRENCY


def _goal_typo(text: str) -> None:
    """`=> 10` is `>= 10` written the other way round: say so rather than "not a number"."""
    raw = text.strip()
    for typo, meant in sorted(_GOAL_TYPOS, key=lambda pair: -len(pair[0])):
        if raw.startswith(typo):
            rest = raw[len(typo) :].strip()
            if meant is None:
                raise ValueError(
                    f'`{text}` is not a goal: for "anything but {rest}" write `outside {rest}..{rest}`; '
                    "otherwise start with >=, <=, ==, > or <"
                )
            raise ValueError(f"`{text}` is not a goal: did you mean `{meant} {rest}`?")


class SeatSpec(Spec):
    id: Id
    title: Text
    holder: Id | None = None
    reports_to: Id | None = None
    status: Literal["active", "vacant", "planned", "retired"] | None = None
    customer_facing: bool = False
    # What its holder may do without a person (README: authority levels); view-only and advisory do not draft.
    authority: Literal[AUTHORITY_LEVELS] | None = None  # type: ignore[valid-type]
    aliases: list[Text] = Field(default_factory=list)
    accountabilities: list[LongText] = Field(default_factory=list)
    owns: list[Text] = Field(default_factory=list)
    does_not_own: list[Text] = Field(default_factory=list)
    metrics: list[MetricSpec] = Field(default_factory=list)

    @property
    def effective_status(self) -> str:
        return self.status or ("active" if self.holder else "vacant")


class ApprovalSpec(Spec):
    seats: list[Id] = Field(min_length=1)
    kinds: list[Text] = Field(default_factory=list)
    channel: SlackId | None = None
    approvers: list[Id] = Field(default_factory=list)
    usergroup: SlackId | None = None
    required: Annotated[int, Field(ge=1, le=5)] = 1
    remind_after: str | None = None
    escalate_after: str | None = None
    expires_after: str | None = None

    @field_validator("remind_after", "escalate_after", "expires_after")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        # Normalised (`240m` -> `4h`), so export and re-import compare equal.
        return None if value is None else format_minutes(parse_minutes(value))


class PolicySpec(Spec):
    name: Id
    hold_kind: Text | None = None
    while_flag: Text | None = None
    winner: Id | None = None
    description: Description | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class ScheduleSpec(Spec):
    name: Id | None = None
    post: Text
    channel: SlackId
    cron: Text
    timezone: str | None = None  # default: the org's
    working_days: list[str] = Field(default_factory=list)  # `mon-fri` or [mon, tue, ...]; default: every day
    holidays: list[str] = Field(default_factory=list)  # ISO dates skipped
    grace: str | None = None  # how late a missed run may still post (default 2h)

    @property
    def key(self) -> str:
        return self.name or self.post

    @field_validator("post")
    @classmethod
    def _post(cls, value: str) -> str:
        if value.lower() not in POSTS:
            raise ValueError(f"unknown post {value!r}; a schedule posts one of {', '.join(POSTS)}")
        return value.lower()

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        cron.trigger(value, "UTC")  # raises ValueError naming what is wrong
        return " ".join(value.split())

    @field_validator("working_days", mode="before")
    @classmethod
    def _days(cls, value: Any) -> list[str]:
        return cron.parse_days(value)

    @field_validator("holidays", mode="before")
    @classmethod
    def _holidays(cls, value: Any) -> list[str]:
        days = []
        for item in value if isinstance(value, list) else [value]:
            try:
                days.append(item if isinstance(item, date) else date.fromisoformat(str(item).strip()))
            except ValueError:
                raise ValueError(f"holiday {item!r} is not a date; write it like 2026-12-25") from None
        return [d.isoformat() for d in sorted(set(days))]

    @field_validator("grace")
    @classmethod
    def _grace(cls, value: str | None) -> str | None:
        return None if value is None else format_minutes(parse_minutes(value))

    _zone = field_validator("timezone")(_known_zone)


class ChartSpec(Spec):
    org: OrgSpec
    holders: list[HolderSpec] = Field(default_factory=list)
    seats: list[SeatSpec] = Field(default_factory=list)
    approvals: list[ApprovalSpec] = Field(default_factory=list)
    policies: list[PolicySpec] = Field(default_factory=list)
    schedules: list[ScheduleSpec] = Field(default_factory=list)
    rules: list[RuleSpec] = Field(default_factory=list)  # the org's operating rules (OTP's claims)


class ChartErrors(Invalid):
    """Every problem found in a chart file, each as (location, message)."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"{source}: {loc}: {msg}" if loc else f"{source}: {msg}" for loc, msg in problems]
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"{source} was not imported ({count}; nothing was written):\n" + "\n".join(lines))


def location(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def normalize_topic(text: str) -> str:
    """Lower case, single spaces, no punctuation: the form uniqueness of `owns` is checked on."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def semantic_problems(chart: ChartSpec) -> list[tuple[str, str]]:
    """Cross-references and invariants pydantic's per-field checks cannot see."""
    problems: list[tuple[str, str]] = []
    holders = {h.id: h for h in chart.holders}
    seats = {s.id: s for s in chart.seats}

    def duplicates(kind: str, ids: list[str]) -> None:
        for key, n in Counter(ids).items():
            if n > 1:
                idx = [i for i, x in enumerate(ids) if x == key][1]
                problems.append((f"{kind}[{idx}].id", f"duplicate id {key!r}: ids are unique"))

    duplicates("holders", [h.id for h in chart.holders])
    duplicates("seats", [s.id for s in chart.seats])
    for field in ("slack_user", "email"):
        seen: dict[str, int] = {}
        for i, h in enumerate(chart.holders):
            value = getattr(h, field)
            if value and value.lower() in seen:
                problems.append(
                    (f"holders[{i}].{field}", f"{value!r} is already used by holders[{seen[value.lower()]}]")
                )
            elif value:
                seen[value.lower()] = i

    for i, h in enumerate(chart.holders):
        where = f"holders[{i}]"
        if h.kind == "agent" and not h.supervisor:
            problems.append((f"{where}.supervisor", f"agent {h.id!r} needs an accountable human supervisor"))
        if h.supervisor:
            sup = holders.get(h.supervisor)
            if sup is None:
                problems.append((f"{where}.supervisor", f"unknown holder {h.supervisor!r}"))
            elif sup.kind != "human":
                problems.append((f"{where}.supervisor", f"{h.supervisor!r} is an agent; a supervisor must be a human"))

    metric_where: dict[str, str] = {}
    metric_specs: dict[str, MetricSpec] = {}
    owners: dict[str, str] = {}
    for i, s in enumerate(chart.seats):
        where = f"seats[{i}]"
        if s.holder and s.holder not in holders:
            problems.append((f"{where}.holder", f"unknown holder {s.holder!r}"))
        if s.status == "active" and not s.holder:
            problems.append((f"{where}.status", "an active seat needs a holder; make it `vacant` or name a holder"))
        if s.status in ("vacant", "retired") and s.holder:
            problems.append((f"{where}.holder", f"a {s.status} seat has no holder; remove `holder` or change `status`"))
        if s.reports_to:
            if s.reports_to == s.id:
                problems.append((f"{where}.reports_to", "a seat cannot report to itself"))
            elif s.reports_to not in seats:
                problems.append((f"{where}.reports_to", f"unknown seat {s.reports_to!r}"))
        for j, topic in enumerate(s.owns):
            key = normalize_topic(topic)
            if key in owners and owners[key] != s.id:
                problems.append(
                    (
                        f"{where}.owns[{j}]",
                        f"{topic!r} is already owned by seat {owners[key]!r}: one function, one seat",
                    )
                )
            owners.setdefault(key, s.id)
        for j, m in enumerate(s.metrics):
            mwhere = f"{where}.metrics[{j}]"
            if m.id in metric_where:
                problems.append((f"{mwhere}.id", f"duplicate metric id {m.id!r} (also {metric_where[m.id]})"))
            metric_where.setdefault(m.id, mwhere)
            metric_specs.setdefault(m.id, m)

    # Reporting lines must be acyclic: walk up from every seat.
    reported: set[frozenset[str]] = set()
    for i, s in enumerate(chart.seats):
        if s.reports_to == s.id:
            continue
        path, cur = [s.id], seats.get(s.reports_to or "")
        while cur is not None and cur.id not in path:
            path.append(cur.id)
            cur = seats.get(cur.reports_to or "")
        if cur is not None and cur.id == s.id:
            cycle = " -> ".join(path + [s.id])
            if frozenset(path) not in reported:
                reported.add(frozenset(path))
                problems.append((f"seats[{i}].reports_to", f"reporting lines form a loop: {cycle}"))

    for mid, m in metric_specs.items():
        if not m.formula:
            continue
        for ref in formulas.references(m.formula):
            if ref not in metric_specs:
                problems.append((f"{metric_where[mid]}.formula", f"unknown metric {ref!r}"))
            elif metric_specs[ref].cadence != m.cadence:
                problems.append(
                    (
                        f"{metric_where[mid]}.formula",
                        f"{ref!r} is {metric_specs[ref].cadence}; a formula combines metrics of one cadence",
                    )
                )
    # Formula cycles.
    graph = {
        mid: [r for r in formulas.references(m.formula or "") if r in metric_specs] for mid, m in metric_specs.items()
    }
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                problems.append(
                    (
                        f"{metric_where[node]}.formula",
                        "formulas refer to each other in a loop: "
                        + " -> ".join(trail[trail.index(nxt) :] + [node, nxt])
                        if nxt in trail
                        else f"formula refers to itself via {nxt!r}",
                    )
                )
            elif nxt not in state:
                visit(nxt, trail + [node])
        state[node] = 2

    for mid in graph:
        if mid not in state:
            visit(mid, [])

    for i, a in enumerate(chart.approvals):
        for j, sid in enumerate(a.seats):
            if sid not in seats:
                problems.append((f"approvals[{i}].seats[{j}]", f"unknown seat {sid!r}"))
        for j, hid in enumerate(a.approvers):
            if hid not in holders:
                problems.append((f"approvals[{i}].approvers[{j}]", f"unknown holder {hid!r}"))
            elif holders[hid].kind != "human":
                problems.append((f"approvals[{i}].approvers[{j}]", f"{hid!r} is an agent; only humans approve"))
        if not a.approvers and not a.usergroup:
            problems.append((f"approvals[{i}]", "name `approvers` (holders) or a Slack `usergroup`"))
        elif a.usergroup and not a.channel:
            problems.append(
                (f"approvals[{i}].channel", "a route to a Slack `usergroup` needs the `channel` to post in")
            )
        elif a.approvers and a.required > len(a.approvers) and not a.usergroup:
            problems.append(
                (
                    f"approvals[{i}].required",
                    f"{a.required} approvals required but only {len(a.approvers)} approvers named",
                )
            )
    duplicates("policies", [p.name for p in chart.policies])
    for i, p in enumerate(chart.policies):
        if p.winner and p.winner not in seats:
            problems.append((f"policies[{i}].winner", f"unknown seat {p.winner!r}"))
    rule_ids = [r.id for r in chart.rules]
    for i, r in enumerate(chart.rules):
        if r.id in rule_ids[:i]:
            problems.append((f"rules[{i}].id", f"duplicate id {r.id!r}: ids are unique"))
        for j, sid in enumerate(r.seats):
            if sid not in seats:
                problems.append((f"rules[{i}].seats[{j}]", f"unknown seat {sid!r}"))
    keys = [s.key for s in chart.schedules]
    for key, n in Counter(keys).items():
        if n > 1:
            problems.append(
                (f"schedules[{keys.index(key)}]", f"two schedules are called {key!r}; give each a distinct `name`")
            )
    return problems


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys silently; a chart file must not."""


# Dates stay text (`holidays: [2026-12-25]`): the schema parses them and names a bad one,
# where PyYAML would raise a bare ValueError for 2026-13-01.
_UniqueKeyLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml(text: str, source: str) -> Any:
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ChartErrors(source, [(where, f"not valid YAML: {problem}")]) from None


def _message(err: Any) -> str:
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return _unknown_key(err["loc"])
    if err["type"] == "string_pattern_mismatch":
        field = next((p for p in reversed(err["loc"]) if isinstance(p, str)), "")
        if field == "channel":
            return f"{err['input']!r} is not a channel id; {CHANNEL_HELP}"
        if field in _ID_FIELDS:
            return f"{err['input']!r} is not a valid id: lower-case letters, digits, '-', '_' or '.'"
        return f"{err['input']!r} is not valid here"
    return msg


def _unknown_key(loc: tuple[Any, ...]) -> str:
    """Name the key it most likely meant (`repots_to` → `reports_to`), else the keys allowed."""
    model: type[Spec] = ChartSpec
    for part in loc[:-1]:
        if isinstance(part, str):
            model = _NESTED.get(part, model)
    key, known = str(loc[-1]), list(model.model_fields)
    close = difflib.get_close_matches(key.lower(), known, n=1, cutoff=0.6)
    if close:
        return f"unknown key {key!r}: did you mean `{close[0]}`?"
    return f"unknown key {key!r}; the keys here are {', '.join(known)}"


_ID_FIELDS = {"id", "holder", "reports_to", "supervisor", "winner", "name", "seats", "approvers"}
_SECTIONS = {
    "holders": HolderSpec,
    "seats": SeatSpec,
    "approvals": ApprovalSpec,
    "policies": PolicySpec,
    "schedules": ScheduleSpec,
    "rules": RuleSpec,
}
_NESTED: dict[str, type[Spec]] = {"org": OrgSpec, "metrics": MetricSpec, **_SECTIONS}


def _salvage(model: type[Spec], raw: Any, bad: set[str]) -> Spec | None:
    """Keep what validated of a broken item, so cross-reference checks still see it."""
    if not isinstance(raw, dict):
        return None
    good = {k: v for k, v in raw.items() if k in model.model_fields and k not in bad}
    # A required field that failed (an id with a space) or is missing keeps what was written,
    # so the checks across the file still run and do not report it again as "unknown".
    for name, field in model.model_fields.items():
        if name not in good and field.is_required():
            value = raw.get(name)
            good[name] = value if isinstance(value, (str, list)) else (None if value is None else str(value))
    if model is SeatSpec:
        good["metrics"] = [
            m
            for m in (_try(MetricSpec, m) for m in raw.get("metrics") or [] if isinstance(raw.get("metrics"), list))
            if m
        ]
        for key in ("aliases", "accountabilities", "owns", "does_not_own"):
            if not isinstance(good.get(key, []), list):
                good.pop(key)
    return model.model_construct(**good)


def _try(model: type[Spec], raw: Any, context: dict[str, Any] | None = None) -> Spec | None:
    try:
        return model.model_validate(raw, context=context)
    except ValidationError as exc:
        return _salvage(model, raw, {str(e["loc"][0]) for e in exc.errors() if e["loc"]})


def _currency_of(org: Any) -> str:
    """The org's currency as the file says it, for its metrics (its own errors are the org's)."""
    try:
        return currency_code(str(org["currency"])) if isinstance(org, dict) and "currency" in org else DEFAULT_CURRENCY
    except ValueError:
        return DEFAULT_CURRENCY


def validate_chart(data: Any, source: str) -> ChartSpec:
    if not isinstance(data, dict):
        raise ChartErrors(source, [("", "expected a mapping with `org`, `holders`, `seats`, ...")])
    # Goals are numbers written as the org writes them: the org's decimal mark reads them.
    mark = decimal_mark_named(data["org"].get("decimal_mark")) if isinstance(data.get("org"), dict) else None
    context = {"decimal_mark": mark if mark in (".", ",") else None, "currency": _currency_of(data.get("org"))}
    try:
        chart = ChartSpec.model_validate(data, context=context)
    except ValidationError as exc:
        problems = [(location(err["loc"]), _message(err)) for err in exc.errors()]
        # Report cross-reference problems too, in the same run, from the parts that did validate.
        sections = {}
        for name, model in _SECTIONS.items():
            raw = data.get(name)
            items = [_try(model, item, context) for item in raw] if isinstance(raw, list) else []
            sections[name] = [item for item in items if item is not None]
        org = data.get("org") if isinstance(data.get("org"), dict) else {}
        partial = ChartSpec.model_construct(org=OrgSpec.model_construct(**org), **sections)
        try:
            problems += [p for p in semantic_problems(partial) if p[0] not in {loc for loc, _ in problems}]
        except Exception:
            pass
        raise ChartErrors(source, problems) from None
    if problems := semantic_problems(chart):
        raise ChartErrors(source, problems)
    return chart


def load_chart(path: str | Path) -> ChartSpec:
    """A chart file (or an OTP OOS file with entities) as a validated chart."""
    from otp_bot.store.domain.chart.file_import import load_file

    loaded = load_file(path)
    if loaded.chart is None:
        raise ChartErrors(str(path), [("", "the file has claims but no entities: it is not a whole chart")])
    return loaded.chart


_OOS_KEYS = re.compile(r"^(entities|frontmatter|claims|organization|org_pseudonym|oos_version)\s*:", re.M)


def looks_like_oos(text: str) -> bool:
    """OTP's files: YAML (or front matter) with OOS's top-level keys, or JSON with `entities` or
    `frontmatter`. A chart file's top-level keys (org, holders, seats, ...) are none of these."""
    head = text.lstrip()
    if head.startswith("{"):
        return '"entities"' in text or '"frontmatter"' in text
    return bool(_OOS_KEYS.search(text))


def _metric_words(dumped: dict[str, Any], measure: Measure, org_currency: str) -> dict[str, Any]:
    rest = {k: v for k, v in dumped.items() if k not in ("kind", "unit", "currency")}
    head = {k: rest.pop(k) for k in ("id", "name") if k in rest}
    return {**head, **compact(measure, org_currency), **rest}


def dump_chart(chart: ChartSpec) -> str:
    data = chart.model_dump(mode="json", exclude_defaults=True)
    # A metric's measure in the fewest words that read back the same: `unit: days`.
    specs = {m.id: m for s in chart.seats for m in s.metrics}
    for seat in data.get("seats", []):
        seat["metrics"] = [
            _metric_words(m, specs[m["id"]].measure, chart.org.currency) for m in seat.get("metrics", [])
        ]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None)
