"""Claims of an OOS file -> operating rules (`RuleSpec`s), from each of OTP's three shapes.

- JSON (`claims: [{claim_id, section, rule, why, failure_mode, confidence, evidence, scope,
  related_entities, ...}]`), the published claim schema;
- the starter YAML (`claims: {section: [{claim, confidence, evidence}]}`), which has no
  ids: they are numbered C001, C002, ... in file order, and the import says so;
- `.oos.md` bodies: `**[C001]** section`, then `- **Rule:** ...` lines. Read line by line,
  tolerant of what people type: `*`/`+`/`-` bullets or none, the colon inside or outside the
  bold, any case, `Failure mode` / `Failure Mode` / `failure_mode`, a heading (`### [C001]
  section`) instead of bold, and lines that continue a field.

Each claim is checked against the schema; what does not fit is a problem located in the
file (`claims[3].confidence`, `line 52`), and keys the claim schema does not have are kept
in `extra` and noted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from otp_bot.store.domain.chart.chartfile.rule_spec import RuleSpec

# The published claim keys and where each goes; anything else is kept in `extra`.
FIELDS = {
    "claim_id": "id",
    "section": "section",
    "rule": "rule",
    "why": "why",
    "failure_mode": "failure_mode",
    "confidence": "confidence",
    "confidence_score": "confidence_score",
    "evidence": "evidence",
    "evidence_reference": "evidence_reference",
    "scope": "scope",
}
KNOWN_EXTRA = ("display_order", "visibility", "supersedes", "publisher_identity")
_LABELS = {
    "rule": "rule",
    "why": "why",
    "failure mode": "failure_mode",
    "failure": "failure_mode",
    "confidence": "confidence",
    "confidence score": "confidence_score",
    "evidence": "evidence",
    "evidence reference": "evidence_reference",
    "scope": "scope",
    "section": "section",
}
_HEAD = re.compile(
    r"^\s{0,3}(?:#{1,6}\s*)?(?:\*\*|__)?\s*\[(C\d{1,4})\]\s*(?:\*\*|__)?\s*(.*?)\s*(?:\*\*|__)?\s*$", re.I
)
_FIELD = re.compile(
    r"^\s*(?:[-*+]\s+)?(?:\*\*|__)?\s*([A-Za-z][A-Za-z _-]{1,30}?)\s*(?::\s*(?:\*\*|__)|(?:\*\*|__)\s*:|:)\s*(.*)$"
)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")


@dataclass
class Claims:
    """What was read: each claim as (location, fields, related entity ids), problems and notes."""

    found: list[tuple[str, dict[str, Any], list[tuple[str, str]]]] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def from_list(items: Any, where: str, out: Claims) -> None:
    """The published JSON shape: a list of claim objects."""
    if not isinstance(items, list):
        out.problems.append((where, f"expected a list of claims, got {type(items).__name__}"))
        return
    for i, raw in enumerate(items):
        loc = f"{where}[{i}]"
        if not isinstance(raw, dict):
            out.problems.append(
                (loc, f"expected a claim (a mapping with claim_id, rule, ...), got {type(raw).__name__}")
            )
            continue
        fields: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in raw.items():
            if key in FIELDS:
                fields[FIELDS[key]] = value
            elif key != "related_entities":
                extra[key] = value
                if key not in KNOWN_EXTRA:
                    out.notes.append(f"{loc}.{key}: unknown key; kept with the rule: {value!r}")
        if extra:
            fields["extra"] = extra
        out.found.append((loc, fields, _entities(raw.get("related_entities"), f"{loc}.related_entities", out)))


def from_sections(sections: Any, where: str, out: Claims) -> None:
    """The starter YAML's shape: claims grouped by section, `claim` as the rule, no ids."""
    if not isinstance(sections, dict):
        out.problems.append((where, f"expected claims by section (a mapping) or a list, got {type(sections).__name__}"))
        return
    numbered = []
    for section, items in sections.items():
        if not isinstance(items, list):
            out.problems.append((f"{where}.{section}", "expected a list of claims"))
            continue
        for i, raw in enumerate(items):
            loc = f"{where}.{section}[{i}]"
            if not isinstance(raw, dict):
                out.problems.append((loc, f"expected a claim (a mapping with `claim`), got {type(raw).__name__}"))
                continue
            fields: dict[str, Any] = {"section": str(section)}
            extra: dict[str, Any] = {}
            for key, value in raw.items():
                name = "rule" if key == "claim" else FIELDS.get(key)
                if name:
                    fields[name] = value
                elif key != "related_entities":
                    extra[key] = value
                    out.notes.append(f"{loc}.{key}: unknown key; kept with the rule: {value!r}")
            if "id" not in fields:
                fields["id"] = f"C{len(out.found) + 1:03d}"
                numbered.append(fields["id"])
            if extra:
                fields["extra"] = extra
            out.found.append((loc, fields, _entities(raw.get("related_entities"), f"{loc}.related_entities", out)))
    if numbered:
        out.notes.append(f"{where}: the claims have no ids; numbered in file order {numbered[0]}..{numbered[-1]}")


def from_markdown(lines: list[str], first: int, out: Claims) -> None:
    """`.oos.md` claims: `**[C001]** section` then `- **Label:** text` lines. `first` is the
    file's line number of lines[0], so problems name the line in the file."""
    current: tuple[str, dict[str, Any]] | None = None
    last: str | None = None
    for n, line in enumerate(lines, start=first):
        head = _HEAD.match(line)
        if head:
            current = (f"line {n}", {"id": head.group(1).upper(), "section": head.group(2).strip(" *_") or None})
            out.found.append((current[0], current[1], []))
            last = None
            continue
        if current is None:
            continue
        if _HEADING.match(line):  # a heading ends the claim (the Confidence Map and such follow)
            current, last = None, None
            continue
        if not line.strip():
            last = None
            continue
        found = _FIELD.match(line)
        label = _LABELS.get(found.group(1).strip().lower().replace("_", " ")) if found else None
        if found and label:
            if label in current[1]:
                out.problems.append((f"line {n}", f"claim {current[1]['id']} has a second `{found.group(1).strip()}`"))
            current[1][label] = found.group(2).strip()
            last = label
        elif last and line[:1].isspace():  # an indented line continues the field above it
            current[1][last] = f"{current[1][last]} {line.strip()}"
        elif found:
            current[1].setdefault("extra", {})[found.group(1).strip()] = found.group(2).strip()
            out.notes.append(
                f"line {n}: claim {current[1]['id']}: `{found.group(1).strip()}` is not a claim "
                "field; kept with the rule"
            )
        else:
            out.notes.append(
                f"line {n}: claim {current[1]['id']}: a line that is no `- **Field:** text` line; "
                f"not kept: {line.strip()[:80]!r}"
            )
            last = None


def _entities(value: Any, where: str, out: Claims) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        out.problems.append((where, "expected a list of entity ids"))
        return []
    return [(f"{where}[{i}]", v.strip()) for i, v in enumerate(value) if v.strip()]


def validated(out: Claims) -> list[tuple[str, RuleSpec, list[tuple[str, str]]]]:
    """Each claim as a RuleSpec; every problem of every claim is added to `out.problems`."""
    rules: list[tuple[str, RuleSpec, list[tuple[str, str]]]] = []
    seen: dict[str, str] = {}
    for loc, fields, entities in out.found:
        cid = str(fields.get("id", ""))
        if cid and cid in seen:
            out.problems.append((loc, f"duplicate claim id {cid!r} (also {seen[cid]})"))
            continue
        seen.setdefault(cid, loc)
        for name in ("section", "rule"):
            if not fields.get(name):
                label = {"section": "a section after the id", "rule": "a `Rule:` line"}[name]
                out.problems.append(
                    (
                        f"{loc}.{name}" if not loc.startswith("line") else loc,
                        f"claim {fields.get('id', '?')} has no {name}"
                        + (f" ({label})" if loc.startswith("line") else ""),
                    )
                )
        try:
            rule = RuleSpec.model_validate(
                {k: v for k, v in fields.items() if v not in (None, "")}
                | {"section": fields.get("section") or "-", "rule": fields.get("rule") or "-"}
            )
        except ValidationError as exc:
            for err in exc.errors():
                key = str(err["loc"][0]) if err["loc"] else ""
                source_key = {v: k for k, v in FIELDS.items()}.get(key, key)
                place = loc if loc.startswith("line") else f"{loc}.{source_key}"
                msg = err["msg"].removeprefix("Value error, ")
                if key == "confidence":
                    msg = f"{fields.get('confidence')!r}: use HIGH, MEDIUM or LOW"
                elif key == "id":
                    msg = f"{fields.get('id')!r} is not a claim id (C001)"
                out.problems.append((place, f"claim {fields.get('id', '?')}: {msg}" if loc.startswith("line") else msg))
            continue
        rules.append((loc, rule, entities))
    return rules
