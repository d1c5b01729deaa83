"""/otp kpi <metric> <value> [note] [--period P]"""

from __future__ import annotations

from sqlalchemy.orm import Session

from otp_bot.commands.dispatch import command
from otp_bot.commands.parser import Usage, parse_args
from otp_bot.commands.reply import Reply
from otp_bot.commands.views import blocks
from otp_bot.commands.views.render import render
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import get_metric
from otp_bot.store.domain.review import completion
from otp_bot.store.domain.scorecard import periods
from otp_bot.store.domain.scorecard.goals import format_value
from otp_bot.store.domain.scorecard.measures import measure_of
from otp_bot.store.domain.scorecard.metrics import goal_of, record_value
from otp_bot.store.domain.scorecard.value_words import split_value


@command(
    "kpi",
    "kpi <metric> <value> [note] [--period 2026-W47]",
    "record this period's value for a metric of a seat you hold: 42, 3,5, 1,250.50, 12 500, $400k, €1.2M, 85%, "
    "1.5 h, 2 d",
    aliases=("record", "value"),
    writes=True,
)
def kpi_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    args = parse_args(tokens, options={"period"}, flags={"correct"})
    if len(args.words) < 2:
        raise Usage("name the metric and the value, e.g. `kpi early-flags 4`")
    metric_id = args.words[0]
    if completion.is_completion(metric_id.lower()):  # a computed row with no metric behind it
        raise completion.refuse_values(metric_id.lower())
    # `12 500`, `85 %`, `NPS 45`, `1 h 30 min`: one value (the metric says which words are its unit)
    value, note = split_value(args.words[1:], measure_of(get_metric(session, metric_id)))
    period = args.options.get("period")
    recorded = record_value(
        session,
        actor,
        metric_id,
        value,
        period=str(period) if period else None,
        note=" ".join(note) or None,
        correction=bool(args.options.get("correct")),
    )
    row = recorded.value
    metric = get_metric(session, row.metric_id)
    text = render(
        "scorecard/kpi.j2",
        metric=metric,
        value=format_value(row.value, measure_of(metric)),
        period=periods.label(row.period_start, metric.cadence),
        on_track=recorded.on_track,
        goal=goal_of(metric).describe(measure_of(metric)),
        correction=row.is_correction,
    )
    return Reply(text=text, blocks=[blocks.section(text)])
