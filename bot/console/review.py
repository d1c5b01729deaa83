"""The weekly review from the console: post a schedule's post now as the scheduler would (the
review's scorecard post opens the review's thread), and send the headline prompts now
instead of `headlines_ahead` before the post.

Both go the way the running bot goes: the post through `manual_runs.run_now` and the
`RhythmPoster` (what `otp schedule run` does), the prompts into the outbox under the keys
the scheduler uses, so a prompt already sent is not sent again.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from slack_sdk import WebClient
from sqlalchemy import select

from otp_bot.bot.runtime import review_posts
from otp_bot.bot.runtime.rhythm_posts import RhythmPoster
from otp_bot.bot.slack.views import review_thread as views
from otp_bot.store.db import Database
from otp_bot.store.domain.chart.reading import get_org
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.errors import DomainError, Invalid
from otp_bot.store.domain.review import agenda, meetings, thread_queue
from otp_bot.store.domain.review.quarters import week_of
from otp_bot.store.domain.rhythm import manual_runs, schedule_plans
from otp_bot.store.models import OutboxItem

if TYPE_CHECKING:  # the console calls `run_verb` with itself
    from otp_bot.bot.console.shell import Shell

STARTED_BY = "operator:console"


def run_verb(shell: Shell, verb: str, rest: str) -> None:
    """`review`, `post <schedule> [--force]`, `headlines`, typed at the console."""
    words = rest.split()
    force = "--force" in words
    names = [w for w in words if w != "--force"]
    shell.buttons.clear()
    try:
        if verb == "headlines":
            line = send_headline_prompts(shell.db)
        elif verb == "review" or names:
            which = names[0] if names and verb == "post" else review_schedule(shell.db)
            line = post(shell.db, shell.deps.client, which, force=force)
            if verb == "review" and "nothing posted" in line and (found := current_reply(shell.db)):
                channel, ts, thread_ts, message = found  # the week's review goes on from where it is
                shell.standin.keep(channel, {"ts": ts, "thread_ts": thread_ts, **message})
                shell.out.print(escape(line))
                where = f"in {channel}, in thread, as it is now"
                shell.show(where, message["blocks"], "", {"channel": channel, "ts": ts})
                return
        else:
            shell.out.print("[yellow]Post which schedule? `post scorecard`, `post briefing`.[/yellow]")
            return
    except DomainError as exc:
        shell.out.print(f"[yellow]{escape(exc.message + (f' ({exc.hint})' if exc.hint else ''))}[/yellow]")
        return
    shell.out.print(escape(line))
    shell.deps.kick()
    shell.settle()


def review_schedule(db: Database) -> str:
    """The schedule whose post opens the review, as the chart file's `review:` names it."""
    with db.session(readonly=True) as session:
        setup = meetings.review_setup(session)
    if setup is None or not setup.schedule:
        raise Invalid("the chart names no weekly review", hint="add a `review:` section to the chart file")
    return setup.schedule


def post(db: Database, client: WebClient, which: str, *, force: bool = False) -> str:
    """Post a schedule's current period now, as `otp schedule run` does; what happened, in a line
    (a period already posted says so, and posts nothing)."""
    with db.session(readonly=True) as session:
        plan = schedule_plans.get_plan(session, which)
    with db.session() as session:
        taken = manual_runs.run_now(session, plan, started_by=STARTED_BY, force=force)
    if taken.claim is None:
        again = "" if force else " (`post " + plan.name + " --force` posts again)"
        return f"{plan.name}: {taken.reason}; nothing posted{again}"
    outcome = RhythmPoster(db, client).perform(taken.claim)
    if outcome.status != "posted":
        return f"{plan.name}: not posted for {taken.period} ({outcome.note})"
    line = f"{plan.name}: posted to {outcome.channel} for {taken.period}"
    with db.session(readonly=True) as session:
        setup = meetings.review_setup(session)
        if setup is None or setup.schedule != plan.name:
            return line
        review = meetings.review_for_week(session, meetings.local_today(session))
        if review is None:
            return line
        if review.thread_ts == outcome.ts:
            return line + f"; the review of the week of {review.week.isoformat()} opens in its thread"
        # A second post of the week (--force): the week has one review, in the first post's thread.
        return line + (
            f"; the review of the week of {review.week.isoformat()} is {review.status}, "
            f"in the thread of an earlier post ({review.channel} {review.thread_ts})"
        )


def send_headline_prompts(db: Database, now: dt.datetime | None = None) -> str:
    """Queue the headline prompts for the review this week's post opens (or, once this week's
    review is over, next week's); the outbox sends each attendee's once."""
    now = now or utcnow()
    with db.session() as session:
        setup = meetings.review_setup(session)
        if setup is None:
            raise Invalid("the chart names no weekly review", hint="add a `review:` section to the chart file")
        plan = schedule_plans.get_plan(session, setup.schedule)
        zone = plan.zone
        week = week_of(meetings.local_today(session, now))
        this_week = meetings.review_for_week(session, week)
        if this_week is not None and this_week.status in ("ended", "not-held"):
            week += dt.timedelta(days=7)
        # The post the prompt names: the schedule's next run in that week, or now (`review`
        # posts it when the person at the console says) when that run is past.
        runs = plan.next_runs(now, 2)
        post_at = next((t for t in runs if week_of(t.astimezone(zone).date()) == week), now)
        people = agenda.attendees(session)
        for holder in people:
            thread_queue.queue_headline_prompt(session, week, post_at, holder.id)
        org = get_org(session).name
    if not people:
        return "nobody to ask: the review's attendees have no one on Slack"
    names = ", ".join(h.name for h in people)
    return f"{org}: headline prompts for the review of the week of {week.isoformat()} sent to {names}"


def current_reply(db: Database) -> tuple[str, str, str, dict[str, Any]] | None:
    """This week's review, when it is open or running: the thread reply that has its buttons now
    (the opening's Start, or the current section's), as the store has it, with the channel and
    ts it landed at and the thread's ts; so a review begun in an earlier console session goes
    on in this one."""
    with db.session(readonly=True) as session:
        review = meetings.review_for_week(session, meetings.local_today(session))
        if review is None or review.status not in ("open", "running"):
            return None
        if review.status == "open" or review.section is None:
            key, message = f"review:{review.id}:opening", views.opening_message(review)
        else:
            key = f"review:{review.id}:section:{review.section}"
            message = review_posts.section_message(session, review, review.section)
        thread_ts = review.thread_ts or ""
        landed = session.execute(
            select(OutboxItem.landed_channel, OutboxItem.landed_ts).where(OutboxItem.key == key)
        ).first()
    if landed is None or not landed[0] or not landed[1]:
        return None  # not posted yet: the worker posts it, and the console shows it then
    return landed[0], landed[1], thread_ts, message
