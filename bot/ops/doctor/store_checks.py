"""The install as the store sees it: the database reachable and migrated, a chart in it, and
the schedules' next runs. Nothing here writes: an unmigrated SQLite file is reported, not
migrated (the doctor reads only after the migration check passed)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from otp_bot.bot.ops.doctor.check import Check, fail, ok
from otp_bot.store.db import Database
from otp_bot.store.domain.clock import as_utc
from otp_bot.store.domain.rhythm import run_history, schedule_plans
from otp_bot.store.models import Holder, Org, Seat


def database(url: str) -> tuple[Check, Database | None]:
    """Reachable, and at the migrations' head. Returns the database only when both hold."""
    title = "Database"
    parsed = make_url(url)
    safe = parsed.render_as_string(hide_password=True)
    on_disk = parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")
    if on_disk and not Path(str(parsed.database)).exists():
        fix = "`otp chart import FILE` creates it; or set OTP_DATABASE_URL to the store `otp serve` uses"
        return fail("database", title, f"no store at {parsed.database}", fix), None
    db = Database(url, auto_migrate=False)
    try:
        current, head = db.current_revision(), db.head_revision()
    except Exception as exc:
        db.dispose()
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        fix = "check OTP_DATABASE_URL, and that the server is up and accepts this user"
        return fail("database", title, f"could not connect to {safe}: {first}", fix), None
    if current != head:
        db.dispose()
        fix = "run `otp db upgrade`" + (" (or start `otp serve`, which migrates SQLite itself)" if db.is_sqlite else "")
        return fail(
            "database", title, f"{safe} is at migration {current or 'none'}; this release needs {head}", fix
        ), None
    return ok("database", title, f"{safe} reachable, migrations current ({head})"), db


def chart(session: Session) -> Check:
    org = session.get(Org, 1)
    if org is None:
        return fail("chart", "Chart", "the store has no chart yet", "`otp chart import chart.yaml`")
    seats = session.scalar(select(func.count()).select_from(Seat).where(Seat.status != "retired")) or 0
    holders = session.scalar(select(func.count()).select_from(Holder)) or 0
    return ok("chart", "Chart", f"{org.name}: {seats} seats, {holders} holders (revision {org.revision})")


def schedules(session: Session, now: dt.datetime) -> Check:
    """Each schedule's next run, and its last one: a schedule that never runs again, or
    whose last run failed, fails the check."""
    title = "Schedules"
    plans = schedule_plans.plans(session)
    if not plans:
        return ok("schedules", title, "none in the chart (add them under `schedules:` to post the briefing)")
    last = run_history.last_runs(session, [p.name for p in plans])
    lines, broken = [], []
    for plan in plans:
        upcoming = plan.next_runs(now, 1)
        run = last.get(plan.name)
        when = upcoming[0].strftime("%a %Y-%m-%d %H:%M %Z") if upcoming else "never"
        previous = f"; last: {run.period} {run.status}" if run else "; not run yet"
        if run and run.status == "posted" and run.posted_at:
            previous += f" {as_utc(run.posted_at):%Y-%m-%d %H:%M} UTC"
        if run and run.status == "failed":
            previous += f" ({run.note or 'no reason recorded'})"
            broken.append(f"{plan.name}'s last run failed")
        if not upcoming:
            broken.append(f"{plan.name} never runs again")
        lines.append(f"{plan.name}: the {plan.post} to {plan.channel}, next {when}{previous}")
    if broken:
        fix = "fix the schedule's cron, days or holidays in the chart file; `otp schedule run NAME --force` posts now"
        return fail("schedules", title, "; ".join(broken), fix, tuple(lines))
    return ok("schedules", title, f"{len(plans)} scheduled, each with a next run", tuple(lines))
