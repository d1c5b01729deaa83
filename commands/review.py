"""/otp review (this week's review: where it stands, what it will go through), /otp headline <one line>"""

from __future__ import annotations

from sqlalchemy.orm import Session

from otp_bot.commands.dispatch import command
from otp_bot.commands.parser import Usage
from otp_bot.commands.reply import Reply
from otp_bot.commands.views.review_items import done_reply
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import get_holder
from otp_bot.store.domain.review import headlines, issues, meetings, todos
from otp_bot.store.domain.review.quarters import week_of
from otp_bot.store.domain.review.setup import attendees


@command("review", "review", "this week's review: when, who facilitates, where it stands, what it will go through")
def review_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    if tokens:
        raise Usage("`review` takes nothing: the review itself runs in its thread, from its buttons")
    setup = meetings.review_setup(session)
    week = headlines.upcoming_week(session)
    review = meetings.review_for_week(session, week)
    today = todos.org_today(session)
    given = {h.holder_id for h in headlines.headlines_for(session, week)}
    invited = attendees(session, setup) if setup else []
    due = [t for t in todos.list_todos(session) if week_of(t.due) <= week]
    view = {
        "declared": setup is not None,
        "week": week.isoformat(),
        "schedule": setup.schedule if setup else "",
        "facilitator": get_holder(session, setup.facilitator_id).name if setup else "",
        "status": review.status if review else "not opened yet",
        "section": review.section if review and review.status == "running" else "",
        "issues": len(issues.list_issues(session)),
        "todos_due": len(due),
        "overdue": sum(1 for t in due if t.due < today),
        "headlines": len(given & set(invited)),
        "invited": len(invited),
        "missing": [get_holder(session, h).name for h in invited if h not in given][:12],
    }
    return done_reply("review/review_status.j2", r=view)


@command("headline", "headline <one line>", "your one-line headline for the coming weekly review", writes=True)
def headline_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    if not tokens:
        raise Usage("say your news in one line, e.g. `headline Two clients renewed for a year`")
    row = headlines.set_headline(session, actor, " ".join(tokens), via="command")
    return done_reply("review/headline_set.j2", text=row.text, week=row.review_week.isoformat())
