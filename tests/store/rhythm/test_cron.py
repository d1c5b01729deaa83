"""Schedule math: cron in several timezones across DST, holidays and working days, period
keys, and the chart file's schedules checked and round-tripped."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest

from otp_bot.store.domain.chart.chartfile.errors import ChartErrors
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.sync.apply import apply_chart
from otp_bot.store.domain.chart.sync.export import export_chart
from otp_bot.store.domain.rhythm import cron, schedule_plans
from tests.support.schedules import local

UTC = dt.UTC


def plan(
    cron_text: str,
    zone: str = "UTC",
    post: str = "briefing",
    *,
    holidays=(),
    working_days=(),
    grace: dt.timedelta = schedule_plans.DEFAULT_GRACE,
) -> schedule_plans.Plan:
    return schedule_plans.Plan(
        "test",
        post,
        "C0TEST",
        cron_text,
        zone,
        frozenset(holidays),
        frozenset(cron.DAYS.index(d) for d in working_days),
        grace,
    )


# ---------------------------------------------------------------- schedule math


def test_cron_days_of_week_count_from_sunday_as_in_cron():
    monday = local("UTC", 2026, 11, 23)
    weekdays = [d.strftime("%a") for d in plan("0 8 * * 1-5").next_runs(monday, 6)]
    assert weekdays == ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon"]  # APScheduler alone would say Tue..Sat
    assert [d.strftime("%a") for d in plan("0 8 * * 0").next_runs(monday, 2)] == ["Sun", "Sun"]
    assert plan("0 8 * * 7").next_runs(monday, 1) == plan("0 8 * * sun").next_runs(monday, 1)
    assert cron.day_of_week("5-7") == "fri,sat,sun" and cron.day_of_week("*/2") == "tue,thu,sat,sun"
    assert cron.day_of_week("mon-fri") == "mon,tue,wed,thu,fri" and cron.day_of_week("0-6") == "*"


# zone, the day clocks go forward (02:00-03:00 does not exist), the day they go back (an hour repeats)
DST = [
    ("America/New_York", dt.date(2026, 3, 8), "30 2 * * *", dt.date(2026, 11, 1), "30 1 * * *"),
    ("Europe/Berlin", dt.date(2026, 3, 29), "30 2 * * *", dt.date(2026, 10, 25), "30 2 * * *"),
    ("Australia/Sydney", dt.date(2026, 10, 4), "30 2 * * *", dt.date(2026, 4, 5), "30 2 * * *"),
]


@pytest.mark.parametrize(("zone", "forward", "_gap_cron", "back", "_repeat_cron"), DST, ids=[d[0] for d in DST])
def test_a_morning_post_stays_at_eight_local_across_both_dst_changes(zone, forward, _gap_cron, back, _repeat_cron):
    for change in (forward, back):
        start = local(zone, change.year, change.month, change.day) - dt.timedelta(days=2)
        runs = plan("0 8 * * *", zone).next_runs(start, 4)
        assert [r.strftime("%d %H:%M") for r in runs] == [
            (change + dt.timedelta(days=d)).strftime("%d 08:00") for d in (-2, -1, 0, 1)
        ]
        offsets = {r.utcoffset() for r in runs}
        assert len(offsets) == 2  # the same local hour is a different UTC hour after the change
        gaps = [b.astimezone(UTC) - a.astimezone(UTC) for a, b in itertools.pairwise(runs)]
        assert dt.timedelta(hours=23) in gaps or dt.timedelta(hours=25) in gaps


@pytest.mark.parametrize(("zone", "forward", "gap_cron", "_back", "_repeat_cron"), DST, ids=[d[0] for d in DST])
def test_a_time_that_does_not_exist_fires_once_just_after_the_gap(zone, forward, gap_cron, _back, _repeat_cron):
    start = local(zone, forward.year, forward.month, forward.day) - dt.timedelta(days=1)
    runs = plan(gap_cron, zone).next_runs(start, 3)
    assert [r.date() for r in runs] == [forward - dt.timedelta(days=1), forward, forward + dt.timedelta(days=1)]
    on_the_day = runs[1]
    assert on_the_day.strftime("%H:%M") == "03:30"  # 02:30 never happened; it runs as the clocks reach 03:30
    assert on_the_day.utcoffset() == runs[2].utcoffset()


@pytest.mark.parametrize(("zone", "_forward", "_gap_cron", "back", "repeat_cron"), DST, ids=[d[0] for d in DST])
def test_a_time_that_happens_twice_fires_once(zone, _forward, _gap_cron, back, repeat_cron):
    p = plan(repeat_cron, zone)
    start = local(zone, back.year, back.month, back.day) - dt.timedelta(days=1)
    runs = p.next_runs(start, 3)
    assert [r.date() for r in runs] == [back - dt.timedelta(days=1), back, back + dt.timedelta(days=1)]
    assert len({p.period(r) for r in runs}) == 3
    # Even asked from inside the repeated hour, the day has one period: the second 01:30 claims nothing new.
    first = runs[1]
    second = (first.astimezone(UTC) + dt.timedelta(hours=1)).astimezone(ZoneInfo(zone))
    assert second.astimezone(ZoneInfo(zone)).strftime("%H:%M") == first.strftime("%H:%M")
    assert p.period(second) == p.period(first)


def test_holidays_and_working_days_are_skipped():
    p = plan("0 9 * * *", "Europe/Berlin", holidays={dt.date(2026, 12, 25)}, working_days=cron.DAYS[:5])
    runs = p.next_runs(local("Europe/Berlin", 2026, 12, 23, 7), 4)
    assert [r.strftime("%a %d") for r in runs] == ["Wed 23", "Thu 24", "Mon 28", "Tue 29"]
    # The last run before Monday morning is Thursday's: the holiday and the weekend have none.
    assert p.latest_due(local("Europe/Berlin", 2026, 12, 28, 8)).strftime("%a %d %H:%M") == "Thu 24 09:00"


def test_period_keys_are_a_day_for_the_briefing_and_an_iso_week_for_the_scorecard():
    assert plan("0 8 * * *").period(local("America/New_York", 2026, 11, 24, 8)) == "2026-11-24"
    # 23:30 in New York is already the next day in UTC: the schedule's own timezone decides.
    assert plan("0 8 * * *", "America/New_York").period(dt.datetime(2026, 11, 25, 4, 30, tzinfo=UTC)) == "2026-11-24"
    weekly = plan("0 9 * * mon", "UTC", post="scorecard")
    assert weekly.period(local("UTC", 2026, 11, 23, 9)) == weekly.period(local("UTC", 2026, 11, 29, 23)) == "2026-W48"
    # Across New Year the ISO week holds: 2027-01-01 is in 2026's week 53.
    assert weekly.period(local("UTC", 2026, 12, 28, 9)) == weekly.period(local("UTC", 2027, 1, 1, 9)) == "2026-W53"


def test_the_chart_file_checks_schedules_and_round_trips_them(db):
    data = {
        "org": {"name": "X", "timezone": "Europe/Berlin"},
        "schedules": [
            {
                "post": "briefing",
                "channel": "C0X",
                "cron": "0 8 * * 1-5",
                "working_days": "mon-fri",
                "holidays": ["2026-12-25", "2026-12-24"],
                "grace": "90m",
            }
        ],
    }
    with db.session() as s:
        apply_chart(s, validate_chart(data, "chart.yaml"), actor="operator:test", source="chart.yaml")
        exported = export_chart(s)
        assert exported.schedules[0].working_days == ["mon", "tue", "wed", "thu", "fri"]
        assert exported.schedules[0].holidays == ["2026-12-24", "2026-12-25"] and exported.schedules[0].grace == "1h30m"
        assert not apply_chart(
            s, exported, actor="operator:test", source="export"
        ).changes  # export -> import: no changes
        assert schedule_plans.get_plan(s, "briefing").grace == dt.timedelta(minutes=90)
    bad = {
        "org": {"name": "X"},
        "schedules": [
            {
                "post": "newsletter",
                "channel": "C0X",
                "cron": "0 25 * * *",
                "working_days": ["mon", "fry"],
                "holidays": ["2026-13-01"],
                "grace": "soon",
            }
        ],
    }
    with pytest.raises(ChartErrors) as caught:
        validate_chart(bad, "chart.yaml")
    where = {loc for loc, _ in caught.value.problems}
    assert where == {
        "schedules[0].post",
        "schedules[0].cron",
        "schedules[0].working_days",
        "schedules[0].holidays",
        "schedules[0].grace",
    }
