"""Import OTP's OOS files (the Organizational Operating System format) into the chart.

OTP publishes three shapes, all read here (reading.py): the JSON of its full example
(`frontmatter`, `entities`, `claims`), `.oos.md` files (front matter, then Markdown claims)
and the starter YAML users download (`organization`, `entities`, `claims` by section).
Entities become holders, seats, reporting lines, authority and approval routes
(entities.py); conflict protocols and override rules become policies (policies.py); claims
become the org's operating rules (claims.py).

`convert_oos_text` returns an `OosImport`: the chart (None when the file has claims but no
entities: its rules merge into the stored chart), the rules, and a report with one line per
thing the chart keeps nowhere, each with its place in the file, so nothing is dropped
silently. A malformed file raises `ChartErrors` listing every problem at once, located in
the OOS file (`entities.agents[2].escalates_to`), and nothing is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from otp_bot.store.domain.chart.chartfile.errors import ChartErrors
from otp_bot.store.domain.chart.chartfile.rule_spec import RuleSpec
from otp_bot.store.domain.chart.chartfile.schema import ChartSpec
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.oos import claims as claim_reader
from otp_bot.store.domain.chart.oos.chart_sections import chart_sections
from otp_bot.store.domain.chart.oos.entities import Converter, slug
from otp_bot.store.domain.chart.oos.policies import policies
from otp_bot.store.domain.chart.oos.reading import read

__all__ = ["OosImport", "convert_oos_file", "convert_oos_text", "slug"]

FRONT_MATTER = (
    "oos_version",
    "org_id",
    "org_pseudonym",
    "industry",
    "org_size",
    "template",
    "agent_count",
    "platforms",
    "generated_at",
    "version",
    "parent_version",
    "word_count",
    "claim_count",
    "confidence_distribution",
    "evidence_distribution",
)
ENTITY_KEYS = (
    "agents",
    "humans",
    "systems",
    "workflows",
    "escalation_hierarchy",
    "conflict_protocols",
    "override_rules",
    "decisions",
    "dependencies",
)
RECORDED = {"systems": "systems", "workflows": "workflows", "decisions": "decisions", "dependencies": "dependencies"}


@dataclass
class OosImport:
    chart: ChartSpec | None  # None: the file has claims only, merged into the stored chart
    rules: list[RuleSpec] = field(default_factory=list)
    report: list[str] = field(default_factory=list)
    unnamed: dict[str, list[str]] = field(default_factory=dict)  # rule id -> entity ids no seat answers to


def _org(conv: Converter, data: dict[str, Any]) -> dict[str, Any]:
    org: dict[str, Any] = {}
    front = data.get("frontmatter")
    if front is not None and not isinstance(front, dict):
        conv.problems.append(("frontmatter", "expected a mapping"))
        front = None
    name_at = None
    for where, value in (
        (("frontmatter.org_pseudonym", front.get("org_pseudonym")) if front else (None, None)),
        ("org_pseudonym", data.get("org_pseudonym")),
        ("organization", data.get("organization")),
        ("org", data.get("org")),
        ("company", data.get("company")),
        ("name", data.get("name")),
    ):
        if where is None or value is None:
            continue
        if isinstance(value, dict):
            for sub in value:
                if sub not in ("name", "timezone"):
                    conv.report.append(f"{where}.{sub}: not kept (the chart has no place for it): {value[sub]!r}")
            if value.get("timezone") is not None:
                org["timezone"] = value["timezone"]
            where, value = f"{where}.name", value.get("name")
        if isinstance(value, str) and value.strip():
            org["name"], name_at = value.strip(), where
        else:
            conv.problems.append((where, "expected the organization's name"))
        break
    else:
        conv.problems.append(
            (
                "frontmatter.org_pseudonym",
                "missing: name the organization (`org_pseudonym`, or `organization: {name: ...}`)",
            )
        )
    if name_at:
        conv.origin["org.name"] = name_at
    if data.get("timezone") is not None:
        org["timezone"] = data["timezone"]
        conv.origin["org.timezone"] = "timezone"
    for place, mapping in (("frontmatter", front or {}), ("", data)):
        kept = {
            "org_pseudonym",
            "frontmatter",
            "entities",
            "claims",
            "timezone",
            "organization",
            "org",
            "company",
            "name",
            "_comment",
        }
        rest = [k for k in mapping if k not in kept and (place or k in FRONT_MATTER)]
        if rest:
            shown = ", ".join(f"{k}={mapping[k]!r}" for k in rest)
            conv.report.append(f"{place or 'front matter'}: not kept (the chart has no place for them): {shown}")
    for key in data:
        if key not in FRONT_MATTER and key not in {
            "frontmatter",
            "entities",
            "claims",
            "timezone",
            "organization",
            "org",
            "company",
            "name",
            "_comment",
        }:
            conv.report.append(f"{key}: unknown key; not imported: {data[key]!r}")
    return org


def _list(conv: Converter, entities: dict[str, Any], key: str) -> list[Any]:
    value = entities.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        conv.problems.append((f"entities.{key}", f"expected a list, got {type(value).__name__}"))
        return []
    return value


def _mappings(conv: Converter, entities: dict[str, Any], key: str, required: tuple[str, ...]) -> list[tuple[str, dict]]:
    out = []
    for i, raw in enumerate(_list(conv, entities, key)):
        where = f"entities.{key}[{i}]"
        if not isinstance(raw, dict):
            conv.problems.append((where, f"expected a mapping, got {type(raw).__name__}"))
            continue
        for name in required:
            if raw.get(name) in (None, ""):
                conv.problems.append((f"{where}.{name}", f"missing `{name}`"))
        out.append((where, raw))
    return out


def _entities(conv: Converter, entities: Any, data_keys: list[str]) -> bool:
    """Read the entities; False when the file has none (claims only)."""
    if entities is None:
        if stray := [k for k in ENTITY_KEYS if k in data_keys]:
            conv.problems.append(("entities", f"missing: {', '.join(stray)} belong under `entities`"))
        return False
    if not isinstance(entities, dict):
        conv.problems.append(("entities", "expected a mapping of agents, humans, ..."))
        return False
    for key in entities:
        if key not in ENTITY_KEYS:
            conv.report.append(f"entities.{key}: unknown section; not imported")
    conv.agents = conv.read(_list(conv, entities, "agents"), "agent")
    conv.humans = conv.read(_list(conv, entities, "humans"), "human")
    if not conv.agents and not conv.humans:
        conv.problems.append(("entities", "no agents and no humans: nothing to put on the chart"))
    conv.index_labels()
    conv.read_hierarchy(entities.get("escalation_hierarchy"))
    for key, noun in RECORDED.items():
        for where, raw in _mappings(conv, entities, key, ()):
            label = raw.get("name") or raw.get("domain") or raw.get("description") or ""
            ident = f" {raw['id']}" if raw.get("id") else ""
            conv.report.append(f"{where}:{ident} {str(label)[:60]!r} not kept: the chart has no {noun}")
    conv.protocols = []
    for where, raw in _mappings(conv, entities, "conflict_protocols", ("parties",)):
        parties = raw.get("parties")
        if not isinstance(parties, list):
            conv.problems.append((f"{where}.parties", "expected a list of agent or human ids"))
            parties = []
        conv.protocols.append((where, raw, [(j, p) for j, p in enumerate(parties) if isinstance(p, str)]))
    conv.overrides = _mappings(conv, entities, "override_rules", ("overrider", "overridden"))
    conv.escalations()
    return True


def _rules(conv: Converter, data: dict[str, Any], body: claim_reader.Claims, result: OosImport) -> list[list]:
    """The claims as rules; for each, the entities its related_entities name (their seats are
    known once the chart is built)."""
    found = claim_reader.Claims(problems=body.problems, notes=body.notes)
    if "claims" in data:
        (claim_reader.from_list if isinstance(data["claims"], list) else claim_reader.from_sections)(
            data["claims"], "claims", found
        )
    found.found += body.found
    named = []
    for _, rule, refs in claim_reader.validated(found):
        ents = [e for _, ref in refs if (e := conv.resolve(ref)) is not None]
        if unnamed := [ref for _, ref in refs if conv.resolve(ref) is None]:
            result.unnamed[rule.id] = unnamed
        if unnamed:  # the ids no seat answers to (systems, workflows): the seats say the rest
            rule.extra["related_entities"] = unnamed
        result.rules.append(rule)
        named.append(ents)
    conv.problems += found.problems
    conv.report += found.notes
    return named


def convert_oos_text(text: str, source: str) -> OosImport:
    """The chart and rules an OOS document describes, and a report of what they could not keep."""
    doc = read(text, source)
    conv = Converter(source)
    data = doc.data
    org = _org(conv, data)
    has_entities = _entities(conv, data.get("entities"), list(data))
    result = OosImport(None)
    named = _rules(conv, data, doc.body_claims, result)
    if not has_entities and not result.rules and not conv.problems:
        conv.problems.append(("", "no entities and no claims: nothing to import"))
    if conv.problems:
        raise ChartErrors(source, conv.problems)
    if has_entities:
        chart = chart_sections(conv)
        for rule, ents in zip(result.rules, named, strict=True):  # _rules appends to both in step
            rule.seats = list(dict.fromkeys(e.seat for e in ents))
        chart.update(
            org=org, policies=policies(conv), rules=[r.model_dump(exclude_defaults=True) for r in result.rules]
        )
        try:
            result.chart = validate_chart(chart, source)
        except ChartErrors as exc:
            raise ChartErrors(source, [(_translate(conv.origin, loc), msg) for loc, msg in exc.problems]) from None
        result.rules = result.chart.rules
    frontmatter = data.get("frontmatter")
    front = frontmatter if isinstance(frontmatter, dict) else data
    if isinstance(front.get("claim_count"), int) and front["claim_count"] != len(result.rules):
        conv.report.append(
            f"claim_count says {front['claim_count']} claims; {len(result.rules)} were read "
            "(each is a `**[C001]** section` block or an item of `claims`)"
        )
    if result.unnamed:
        shown = "; ".join(f"{rid}: {', '.join(ids)}" for rid, ids in result.unnamed.items())
        conv.report.append(f"claims' related_entities that are no agent or human (kept with the rule): {shown}")
    result.report = conv.report
    return result


def _translate(origin: dict[str, str], loc: str) -> str:
    """Point a problem the chart validator found back at the OOS field it came from."""
    probe = loc
    while probe not in origin:
        shorter = re.sub(r"(\.[^.\[]+|\[\d+\])$", "", probe)
        if shorter == probe:
            return loc
        probe = shorter
    return origin[probe] if probe == loc else f"{origin[probe]} (chart {loc})"


def convert_oos_file(path: str | Path) -> OosImport:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ChartErrors(str(path), [("", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ChartErrors(str(path), [("", f"cannot be read: {exc}")]) from None
    return convert_oos_text(text, str(path))
