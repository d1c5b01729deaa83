"""`otp schedule …`: the chart's schedules, and running one by hand exactly as the scheduler would.

`run` claims the current period (a day for the briefing, a week for the scorecard): a
second run in the same period posts nothing and says so (exit 0, so a cron job may call
it freely), `--force` posts again, `--dry-run` prints the post without claiming anything.
"""

from __future__ import annotations

from typing import Annotated

import typer

from otp_bot.bot.cli.common import database, refused, say, slack_settings
from otp_bot.store.domain.errors import DomainError

schedule_app = typer.Typer(no_args_is_help=True, help="Schedules: the daily briefing and the weekly scorecard post.")


@schedule_app.command("list")
def schedule_list() -> None:
    """Each schedule: what it posts where, its cron and timezone, its next run and its last."""
    from otp_bot.store.domain.clock import as_utc, utcnow
    from otp_bot.store.domain.rhythm import run_history, schedule_plans

    now = utcnow()
    try:
        with database().session(readonly=True) as session:
            plans = schedule_plans.plans(session)
            last = run_history.last_runs(session, [p.name for p in plans])
    except DomainError as exc:
        refused(exc)
    if not plans:
        say("no schedules; add them under `schedules:` in the chart file", err=True)
        return
    rows = [("name", "post", "channel", "cron", "timezone", "next run", "last run")]
    for p in plans:
        upcoming = p.next_runs(now, 1)
        run = last.get(p.name)
        rows.append(
            (
                p.name,
                p.post,
                p.channel,
                p.cron,
                p.timezone,
                upcoming[0].strftime("%a %Y-%m-%d %H:%M %Z") if upcoming else "never",
                f"{run.period} {run.status}{' (late)' if run.late else ''}"
                f"{' ' + as_utc(run.posted_at).strftime('%Y-%m-%d %H:%M UTC') if run.posted_at else ''}"
                if run
                else "-",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        say("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


@schedule_app.command("run")
def schedule_run(
    which: Annotated[
        str, typer.Argument(metavar="briefing|scorecard|NAME", help="A schedule's name, or what it posts.")
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the post; claim and post nothing.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Post again even if this period's post went out.")] = False,
    actor: Annotated[str, typer.Option("--actor", help="Who is running it, for the audit log.")] = "cli",
) -> None:
    """Post the current period's briefing or scorecard now, as the scheduler would (once per period)."""
    from otp_bot.store.domain.rhythm import manual_runs, schedule_plans

    try:
        with database().session(readonly=True) as session:
            plan = schedule_plans.get_plan(session, which)
    except DomainError as exc:
        refused(exc)
    if dry_run:
        _dry_run(plan)
        return
    client = _client()
    from otp_bot.bot.runtime.rhythm_posts import RhythmPoster

    db = database()
    try:
        with db.session() as session:
            taken = manual_runs.run_now(session, plan, started_by=f"operator:{actor}", force=force)
    except DomainError as exc:
        refused(exc)
    if taken.claim is None:
        if taken.failing:  # the period has no post: a cron job must hear about it
            say(f"{plan.name}: {taken.reason}; nothing posted (--force tries again now)", err=True)
            raise typer.Exit(1)
        say(f"{plan.name}: {taken.reason}; nothing posted" + ("" if force else " (--force posts again)"))
        return
    outcome = RhythmPoster(db, client).perform(taken.claim)
    if outcome.status == "posted":
        say(
            f"{plan.name}: posted to {outcome.channel} for {taken.period} (ts {outcome.ts})"
            + (f"; {outcome.note}" if outcome.note else "")
        )
        return
    what = "will be retried by the scheduler" if outcome.status == "retrying" else "failed"
    say(f"{plan.name}: not posted for {taken.period} ({outcome.note}); {what}", err=True)
    raise typer.Exit(1)


def _dry_run(plan) -> None:
    from rich.console import Console

    from otp_bot.bot.console.terminal import to_rich
    from otp_bot.commands.briefing import briefing_message
    from otp_bot.commands.views.scorecard_image import MAX_ROWS
    from otp_bot.commands.views.scorecard_post import scorecard_message
    from otp_bot.store.domain.clock import as_utc, utcnow
    from otp_bot.store.domain.rhythm import run_history
    from otp_bot.store.domain.rhythm.daily_briefing import daily_briefing
    from otp_bot.store.domain.scorecard.review import weekly_review

    now = utcnow()
    with database().session(readonly=True) as session:
        if plan.post == "briefing":
            last = run_history.last_posted(session, "briefing")
            text = briefing_message(
                daily_briefing(session, now, as_utc(last.posted_at) if last else None), threaded=False
            ).full_text
        else:
            review = weekly_review(session, today=now.astimezone(plan.zone).date())
            message = scorecard_message(review, run_id=None, threaded=False)
            text = "\n\n".join(b["text"]["text"] for b in message.blocks if b.get("type") == "section")
            text = f"{message.text}\n\n{text}\n\n(and a chart image of {min(len(review.rows), MAX_ROWS)} metrics)"
    Console(highlight=False, soft_wrap=True).print(to_rich(text))
    say(f"dry run: would post to {plan.channel} for {plan.period(now)}; nothing was claimed or posted", err=True)


def _client():
    from otp_bot.bot.slack.client import make_client

    settings = slack_settings("bot_token")
    return make_client(settings.secret("bot_token"), settings.base_url, settings.timeout_seconds)
