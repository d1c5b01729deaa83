"""The chart picture's layout (commands/views/chart_layout.py): boxes never overlap, every
line runs from a seat's box to each of its reports' boxes without crossing another box, and
a wide chart wraps instead of growing one long row."""

from __future__ import annotations

import random
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from otp_bot.commands.views.chart_layout import Box, Layout, Spacing, layout_tree
from tests.support.big_org import big_org

EPS = 1e-6


def random_tree(n: int, seed: int, fanout: int = 12) -> list[tuple[str, str | None]]:
    rng = random.Random(seed)
    nodes: list[tuple[str, str | None]] = [("s0", None)]
    for i in range(1, n):
        # Mostly under a recent seat (deep branches), sometimes a second top seat.
        parent = None if rng.random() < 0.03 else f"s{rng.randrange(max(0, i - fanout), i)}"
        nodes.append((f"s{i}", parent))
    return depth_first(nodes)


def depth_first(nodes: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    kids: dict[str | None, list[str]] = {}
    for n, p in nodes:
        kids.setdefault(p, []).append(n)
    parent = dict(nodes)
    out: list[tuple[str, str | None]] = []
    stack = list(reversed(kids.get(None, [])))
    while stack:
        n = stack.pop()
        out.append((n, parent[n]))
        stack.extend(reversed(kids.get(n, [])))
    return out


def overlaps(a: Box, b: Box) -> bool:
    return a.x < b.x + b.w - EPS and b.x < a.x + a.w - EPS and a.y < b.y + b.h - EPS and b.y < a.y + a.h - EPS


def on_boundary(p: tuple[float, float], b: Box) -> bool:
    x, y = p
    inside = b.x - EPS <= x <= b.x + b.w + EPS and b.y - EPS <= y <= b.y + b.h + EPS
    edge = min(abs(x - b.x), abs(x - b.x - b.w), abs(y - b.y), abs(y - b.y - b.h)) < EPS
    return inside and edge


def crosses(a: tuple[float, float], b: tuple[float, float], box: Box) -> bool:
    """Whether the segment a-b enters the inside of `box` (touching its border does not count)."""
    lo_x, hi_x = sorted((a[0], b[0]))
    lo_y, hi_y = sorted((a[1], b[1]))
    return lo_x < box.x + box.w - EPS and hi_x > box.x + EPS and lo_y < box.y + box.h - EPS and hi_y > box.y + EPS


def check(layout: Layout, nodes: list[tuple[str, str | None]]) -> None:
    boxes = layout.boxes
    assert set(boxes) == {n for n, _ in nodes}
    for b in boxes.values():
        assert b.x >= -EPS and b.x + b.w <= layout.width + EPS and b.y >= -EPS and b.y + b.h <= layout.height + EPS
    ordered = sorted(boxes.values(), key=lambda b: b.x)
    for i, a in enumerate(ordered):  # sweep by x: only boxes that start before `a` ends can overlap it
        for b in ordered[i + 1 :]:
            if b.x >= a.x + a.w:
                break
            assert not overlaps(a, b), (a, b)
    want = {(n, p) for n, p in nodes if p is not None}
    assert {(e.child, e.parent) for e in layout.edges} == want and len(layout.edges) == len(want)
    for e in layout.edges:
        pts = e.points
        assert on_boundary(pts[0], boxes[e.parent]) and on_boundary(pts[-1], boxes[e.child]), e
        assert abs(pts[0][1] - boxes[e.parent].y - boxes[e.parent].h) < EPS  # leaves from the bottom of its seat
        for a, b in pairwise(pts):
            assert abs(a[0] - b[0]) < EPS or abs(a[1] - b[1]) < EPS, f"a slanted run in {e}"
            hit = [box.id for box in boxes.values() if crosses(a, b, box)]
            assert not hit, f"{e.parent}->{e.child} crosses {hit}"


def test_a_seat_with_three_managers_is_a_tree_over_them():
    nodes = [("ceo", None), ("a", "ceo"), ("a1", "a"), ("b", "ceo"), ("b1", "b"), ("c", "ceo"), ("c1", "c")]
    layout = layout_tree(nodes)
    check(layout, nodes)
    b = layout.boxes
    assert b["a"].y == b["b"].y == b["c"].y > b["ceo"].y  # one level, one row
    assert b["a"].x < b["b"].x < b["c"].x  # in chart order
    assert b["a"].x <= b["ceo"].cx <= b["c"].x + b["c"].w  # the seat is over its reports


def test_reports_without_reports_stack_in_columns_of_at_most_max_stack():
    s = Spacing()
    nodes = [("boss", None)] + [(f"r{i}", "boss") for i in range(20)]
    layout = layout_tree(nodes, s)
    check(layout, nodes)
    columns: dict[float, int] = {}
    for i in range(20):
        box = layout.boxes[f"r{i}"]
        columns[box.x] = columns.get(box.x, 0) + 1
    assert len(columns) == 3 and max(columns.values()) <= s.max_stack  # 20 reports: 7, 7, 6
    assert layout.width < 4 * (s.box_w + s.indent + s.gap_x)


def test_one_short_column_hangs_under_its_seat():
    nodes = [("boss", None), ("r1", "boss"), ("r2", "boss")]
    layout = layout_tree(nodes)
    check(layout, nodes)
    boss, r1, r2 = (layout.boxes[k] for k in ("boss", "r1", "r2"))
    assert r1.x == r2.x > boss.x and r2.y > r1.y > boss.y
    assert layout.width < 2 * boss.w  # not spread out: a column under the seat


def test_a_wide_level_wraps_into_rows_and_keeps_every_line_clear():
    # A seat with 24 managers of 6 reports each: one row would be 24 blocks wide.
    nodes: list[tuple[str, str | None]] = [("ceo", None)]
    for m in range(24):
        nodes.append((f"m{m}", "ceo"))
        nodes.extend((f"m{m}r{r}", f"m{m}") for r in range(6))
    layout = layout_tree(nodes)
    check(layout, nodes)
    rows = {layout.boxes[f"m{m}"].y for m in range(24)}
    assert len(rows) > 1
    assert 1 / 3 < layout.width / layout.height < 5


def test_200_seats_fit_a_screen_shaped_picture():
    chart = big_org(200)
    nodes = depth_first([(seat["id"], seat.get("reports_to")) for seat in chart["seats"]])
    layout = layout_tree(nodes)
    check(layout, nodes)
    s = Spacing()
    paper = layout.width * layout.height
    ink = 200 * s.box_w * s.box_h
    assert paper < 5 * ink, f"{paper / ink:.1f}x the boxes' own area"
    assert 1.0 < layout.width / layout.height < 3.0
    assert layout.width < 60  # inches: 6,000 pixels at 100 dpi


def test_several_top_seats_and_unknown_parents_are_drawn_side_by_side():
    nodes = [("a", None), ("a1", "a"), ("b", None), ("b1", "gone"), ("c", None)]
    layout = layout_tree(nodes)
    check(layout, [("a", None), ("a1", "a"), ("b", None), ("b1", None), ("c", None)])


def test_nothing_to_draw_is_an_empty_layout():
    layout = layout_tree([])
    assert layout.boxes == {} and layout.edges == [] and layout.width == layout.height == 0


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 120), seed=st.integers(0, 10_000), fanout=st.integers(1, 40))
def test_any_tree_lays_out_without_overlaps_or_crossings(n, seed, fanout):
    nodes = random_tree(n, seed, fanout)
    check(layout_tree(nodes), nodes)
