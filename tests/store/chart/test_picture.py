"""What the chart picture shows (store/domain/chart/picture.py): the chart's seats in tree
order with their holders, the scorecard's off-track count per seat, retired seats only where
seats still report to them."""

from __future__ import annotations

from otp_bot.store.domain.chart.picture import chart_picture
from otp_bot.store.domain.chart.reading import seat_tree
from otp_bot.store.domain.scorecard.review import weekly_review
from tests.support.charts import chart, load


def test_the_example_org_as_the_picture_sees_it(example_db):
    with example_db.session() as s:
        picture = chart_picture(s)
        tree = seat_tree(s)
        review = weekly_review(s)
        assert [p.id for p in picture.seats] == [n.seat.id for n in tree]  # nothing retired: every seat, in order
        by_id = {p.id: p for p in picture.seats}
        for node in tree:
            seat = by_id[node.seat.id]
            assert seat.parent == node.seat.reports_to_id
            assert seat.holder_kind == (node.seat.holder.kind if node.seat.holder else None)
            assert seat.metrics == len(node.seat.metrics) >= seat.on_track + seat.off_track
        # The off-track count per seat is the weekly review's, counted the other way round.
        off: dict[str, int] = {}
        for row in review.off_track:
            off[row.seat.id] = off.get(row.seat.id, 0) + 1
        assert {p.id: p.off_track for p in picture.seats if p.off_track} == off
        assert sum(off.values()) == review.off_track_count > 0
    assert (picture.humans, picture.agents, picture.vacant) == (4, 9, 2)  # as `/otp chart` counts them
    assert picture.branch is None and picture.org == "Acme Agency"


def test_a_branch_starts_at_its_seat_with_no_line_above_it(example_db):
    with example_db.session() as s:
        picture = chart_picture(s, "coo")
    assert picture.branch == "COO" and picture.seats[0].id == "coo" and picture.seats[0].parent is None
    assert all(p.parent is not None for p in picture.seats[1:])


def test_retired_seats_stay_only_where_seats_still_report_to_them(db):
    data = chart()
    data["seats"] += [
        {"id": "old-desk", "title": "Old Desk", "status": "retired", "reports_to": "coo"},
        {"id": "old-branch", "title": "Old Branch", "status": "retired", "reports_to": "coo"},
        {"id": "night-shift", "title": "Night Shift", "status": "vacant", "reports_to": "old-branch"},
    ]
    load(db, data)
    with db.session() as s:
        seats = {p.id: p for p in chart_picture(s).seats}
        assert "old-desk" not in seats
        assert seats["old-branch"].status == "retired" and seats["night-shift"].parent == "old-branch"
        assert chart_picture(s, "old-desk").seats[0].id == "old-desk"  # asked for by name, it is drawn
