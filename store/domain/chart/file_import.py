"""Importing a chart file: OTP bot's YAML, or an OTP OOS file (JSON, .oos.md, starter YAML).

An OOS file with entities is a whole chart, imported like the YAML. One with claims only
(OTP's published `.oos.md` files) merges its claims into the stored chart's rules: a claim
adds a rule or replaces the rule with its id, the other rules stay, and holders, seats,
routes, policies and schedules are left as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from otp_bot.store.domain.chart.chartfile import ChartErrors, ChartSpec, looks_like_oos, parse_yaml, validate_chart
from otp_bot.store.domain.chart.rules import name_seats
from otp_bot.store.domain.chart.sync import ImportResult, apply_chart, export_chart


@dataclass
class Loaded:
    chart: ChartSpec | None  # None: claims only, merged into the stored chart
    rules: list = field(default_factory=list)
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
