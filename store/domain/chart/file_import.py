"""Importing a chart file: OTP bot's YAML, or an OTP OOS file (JSON, .oos.md, starter YAML).

An OOS file with entities is a whole chart, imported like the YAML. One with claims only
(OTP's published `.oos.md` files) merges its claims into the stored chart's rules: a claim
adds a rule or replaces the rule with its id, the other rules stay, and holders, seats,
routes, policies and schedules are left as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from otp_bot.store.domain.chart.chartfile.errors import ChartErrors
from otp_bot.store.domain.chart.chartfile.rule_spec import RuleSpec
from otp_bot.store.domain.chart.chartfile.schema import ChartSpec
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.chartfile.yaml_text import parse_yaml
from otp_bot.store.domain.chart.rules import name_seats
from otp_bot.store.domain.chart.sync.apply import ImportResult, apply_chart
from otp_bot.store.domain.chart.sync.export import export_chart

_OOS_KEYS = re.compile(r"^(entities|frontmatter|claims|organization|org_pseudonym|oos_version)\s*:", re.M)


@dataclass
class Loaded:
    chart: ChartSpec | None  # None: claims only, merged into the stored chart
    rules: list[RuleSpec] = field(default_factory=list)
    report: list[str] = field(default_factory=list)


def load_file(path: str | Path) -> Loaded:
    """Read and validate a file without touching the store; ChartErrors lists every problem."""
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ChartErrors(source, [("", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ChartErrors(source, [("", f"cannot be read: {exc}")]) from None
    if path.name.lower().endswith((".oos.md", ".oos.json", ".oos.yaml", ".oos.yml")) or looks_like_oos(text):
        from otp_bot.store.domain.chart.oos import convert_oos_text

        found = convert_oos_text(text, source)
        return Loaded(found.chart, found.rules, found.report)
    chart = validate_chart(parse_yaml(text, source), source)
    return Loaded(chart, chart.rules)


def load_chart(path: str | Path) -> ChartSpec:
    """A chart file (or an OTP OOS file with entities) as a validated chart."""
    loaded = load_file(path)
    if loaded.chart is None:
        raise ChartErrors(str(path), [("", "the file has claims but no entities: it is not a whole chart")])
    return loaded.chart


def looks_like_oos(text: str) -> bool:
    """OTP's files: YAML (or front matter) with OOS's top-level keys, or JSON with `entities` or
    `frontmatter`. A chart file's top-level keys (org, holders, seats, ...) are none of these."""
    head = text.lstrip()
    if head.startswith("{"):
        return '"entities"' in text or '"frontmatter"' in text
    return bool(_OOS_KEYS.search(text))


def import_file(session: Session, loaded: Loaded, *, actor: str, source: str, dry_run: bool = False) -> ImportResult:
    chart = loaded.chart
    if chart is None:
        current = export_chart(session)
        if current is None:
            raise ChartErrors(
                source,
                [
                    (
                        "",
                        "this file has claims but no entities, so it can only add rules to a "
                        "chart: import a chart first (`otp chart import chart.yaml`)",
                    )
                ],
            )
        incoming = {r.id: r for r in name_seats(current, loaded.rules)}
        kept = [r for r in current.rules if r.id not in incoming]
        if kept:
            loaded.report.append(
                f"rules this file does not mention are kept: {', '.join(r.id for r in kept)} "
                "(a whole chart file or OOS file with entities replaces them)"
            )
        merged = [incoming.pop(r.id, r) for r in current.rules] + list(incoming.values())
        chart = current.model_copy(update={"rules": merged})
    else:
        chart = chart.model_copy(update={"rules": name_seats(chart, chart.rules)})
    return apply_chart(session, chart, actor=actor, source=source, dry_run=dry_run)
