"""Importing a chart file: OTP bot's YAML, or an OTP OOS file (JSON, .oos.md, starter YAML).

An OOS file with entities is a whole chart, imported like the YAML. One with claims only
(OTP's published `.oos.md` files) merges its claims into the stored chart's rules: a claim
adds a rule or replaces the rule with its id, the other rules stay, and holders, seats,
routes, policies and schedules are left as they are.

The same file imported again while the chart is still the one it left (the etag every
chart change renews has not moved) has nothing to do: the digest of the file last imported
is kept with the org, and a match answers "no changes" without parsing 10,000 seats again.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.domain.chart.chartfile.errors import ChartErrors
from otp_bot.store.domain.chart.chartfile.rule_spec import RuleSpec
from otp_bot.store.domain.chart.chartfile.schema import ChartSpec
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.chartfile.yaml_text import parse_yaml
from otp_bot.store.domain.chart.locks import lock_chart_if_any
from otp_bot.store.domain.chart.rules import name_seats
from otp_bot.store.domain.chart.sync.apply import ImportResult, apply_chart
from otp_bot.store.domain.chart.sync.export import export_chart
from otp_bot.store.models import Org

_OOS_KEYS = re.compile(r"^(entities|frontmatter|claims|organization|org_pseudonym|oos_version)\s*:", re.M)


@dataclass
class Loaded:
    chart: ChartSpec | None  # None: claims only, merged into the stored chart
    rules: list[RuleSpec] = field(default_factory=list)
    report: list[str] = field(default_factory=list)
    digest: str | None = None  # of the file as read (see `read_file`); None: not from a file


@dataclass(frozen=True)
class ChartFile:
    text: str
    source: str
    oos: bool  # an OTP OOS file, converted; else OTP bot's own chart YAML
    digest: str


def read_file(path: str | Path) -> ChartFile:
    """The file's text and which reader takes it, without parsing it; ChartErrors if unreadable."""
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ChartErrors(source, [("", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ChartErrors(source, [("", f"cannot be read: {exc}")]) from None
    oos = path.name.lower().endswith((".oos.md", ".oos.json", ".oos.yaml", ".oos.yml")) or looks_like_oos(text)
    return ChartFile(text, source, oos, _digest(text, oos))


def _digest(text: str, oos: bool) -> str:
    # The reader's version is part of it: a new release may read the same bytes differently.
    head = f"{_reader_version()}\0{'oos' if oos else 'chart'}\0".encode()
    return hashlib.sha256(head + text.encode("utf-8")).hexdigest()


def _reader_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("otp-bot")
    except PackageNotFoundError:
        return "unknown"


def load_file(path: str | Path) -> Loaded:
    """Read and validate a file without touching the store; ChartErrors lists every problem."""
    return parse_file(read_file(path))


def parse_file(file: ChartFile) -> Loaded:
    if file.oos:
        from otp_bot.store.domain.chart.oos import convert_oos_text

        found = convert_oos_text(file.text, file.source)
        return Loaded(found.chart, found.rules, found.report, file.digest)
    chart = validate_chart(parse_yaml(file.text, file.source), file.source)
    return Loaded(chart, chart.rules, digest=file.digest)


def imported_already(session: Session, file: ChartFile) -> bool:
    """This very file was the last one imported, and the chart has not changed since."""
    row = session.execute(select(Org.etag, Org.imported_digest, Org.imported_etag).where(Org.id == 1)).first()
    return row is not None and row.imported_digest == file.digest and row.imported_etag == row.etag


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
    if not dry_run:
        lock_chart_if_any(session)  # before rules are merged into the chart as it is (locks.py)
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
    result = apply_chart(session, chart, actor=actor, source=source, dry_run=dry_run)
    if not dry_run and loaded.digest is not None and (org := session.get(Org, 1)) is not None:
        session.flush()  # the etag the import left, if it changed the chart
        org.imported_digest, org.imported_etag = loaded.digest, org.etag
    return result
