"""Where each seat's box goes in the chart picture, and the lines between them: pure geometry,
in inches, y growing downwards.

A plain top-down tree (Reingold–Tilford) puts every seat of a level on one row: at 200 seats
a manager with 30 reports, or a level of 150 seats, makes a picture too wide to read. Two
rules keep it compact, as drawn org charts do:

- the reports of a seat that have no reports themselves are stacked in columns under it
  (at most `max_stack` a column), each hanging off a vertical line by a short stub;
- the blocks under a seat (its subtrees, and the stack) sit side by side, and wrap into
  further rows past a width; the line to a later row runs down a gutter at the block's
  left, so it crosses no box.

Every block is a rectangle no other block enters, and every line runs in the gaps between
them: no box overlaps another and no line crosses a box. The wrap width is chosen among a
few candidates for the picture whose proportions come closest to a screen's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

Point = tuple[float, float]


@dataclass(frozen=True)
class Spacing:
    box_w: float = 2.0
    box_h: float = 0.8
    gap_x: float = 0.3  # between blocks side by side
    gap_y: float = 0.5  # between a seat and the row below it (its lines run in the middle)
    indent: float = 0.22  # from a stack's line to its boxes
    stack_gap: float = 0.14  # between boxes of a stack
    max_stack: int = 8  # boxes in one column of a stack


@dataclass(frozen=True)
class Box:
    id: str
    x: float  # left
    y: float  # top
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2


@dataclass(frozen=True)
class Edge:
    parent: str
    child: str
    points: tuple[Point, ...]  # from the parent's box to the child's, horizontal and vertical runs


@dataclass(frozen=True)
class Layout:
    boxes: dict[str, Box]
    edges: list[Edge]
    width: float
    height: float


# ---------------------------------------------------------------- blocks


@dataclass
class _Port:
    """Where a line from above enters a part: at (x, 0), then down `tail` to the child's box."""

    child: str
    x: float
    tail: list[Point]


@dataclass
class _Part:
    width: float
    height: float
    boxes: list[Box] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    ports: list[_Port] = field(default_factory=list)

    def moved(self, dx: float, dy: float) -> _Part:
        return _Part(
            self.width,
            self.height,
            [Box(b.id, b.x + dx, b.y + dy, b.w, b.h) for b in self.boxes],
            [Edge(e.parent, e.child, tuple((x + dx, y + dy) for x, y in e.points)) for e in self.edges],
            [_Port(p.child, p.x + dx, [(x + dx, y + dy) for x, y in p.tail]) for p in self.ports],
        )


def _stack(leaves: list[str], s: Spacing) -> _Part:
    """Seats without reports, in columns: each column a vertical line with its boxes to its right."""
    cols = math.ceil(len(leaves) / s.max_stack)
    rows = math.ceil(len(leaves) / cols)
    col_w = s.indent + s.box_w
    part = _Part(cols * col_w + (cols - 1) * s.gap_x, rows * s.box_h + (rows - 1) * s.stack_gap)
    for i, leaf in enumerate(leaves):
        col, row = divmod(i, rows)
        line_x = col * (col_w + s.gap_x)
        box = Box(leaf, line_x + s.indent, row * (s.box_h + s.stack_gap), s.box_w, s.box_h)
        mid = box.y + s.box_h / 2
        part.boxes.append(box)
        part.ports.append(_Port(leaf, line_x, [(line_x, 0.0), (line_x, mid), (box.x, mid)]))
    return part


def _rows(parts: list[_Part], wrap: float, s: Spacing) -> list[list[_Part]]:
    rows: list[list[_Part]] = [[]]
    used = 0.0
    for part in parts:
        if rows[-1] and used + s.gap_x + part.width > wrap:
            rows.append([])
            used = 0.0
        used += (s.gap_x if rows[-1] else 0.0) + part.width
        rows[-1].append(part)
    return rows


def _subtree(node: str, children: dict[str | None, list[str]], wrap: float, s: Spacing) -> _Part:
    kids = children.get(node, [])
    if not kids:
        box = Box(node, 0.0, 0.0, s.box_w, s.box_h)
        return _Part(s.box_w, s.box_h, [box], [], [_Port(node, box.cx, [(box.cx, 0.0)])])
    leaves = [k for k in kids if not children.get(k)]
    parts = ([_stack(leaves, s)] if leaves else []) + [_subtree(k, children, wrap, s) for k in kids if children.get(k)]
    rows = _rows(parts, wrap, s)
    gutter = s.gap_x if len(rows) > 1 else 0.0  # the trunk down to later rows runs here
    placed: list[list[_Part]] = []
    y = s.box_h + s.gap_y
    for row in rows:
        x, line = gutter, []
        for part in row:
            line.append(part.moved(x, y))
            x += part.width + s.gap_x
        placed.append(line)
        y += max(p.height for p in row) + s.gap_y
    first = [p.x for part in placed[0] for p in part.ports]
    if len(parts) == 1 and leaves and len(set(first)) == 1:  # one column alone: the seat sits over its line
        out_x = first[0]
        box = Box(node, out_x - s.indent, 0.0, s.box_w, s.box_h)
    else:
        out_x = (min(first) + max(first)) / 2
        box = Box(node, out_x - s.box_w / 2, 0.0, s.box_w, s.box_h)
    part = _Part(0.0, y - s.gap_y, [box])
    trunk_x = gutter / 2
    for k, row_parts in enumerate(placed):
        bus = (row_parts[0].ports[0].tail[0][1]) - s.gap_y / 2
        for child in row_parts:
            part.boxes.extend(child.boxes)
            part.edges.extend(child.edges)
            for port in child.ports:
                head: list[Point] = [(out_x, s.box_h), (out_x, s.box_h + s.gap_y / 2)]
                if k:
                    head += [(trunk_x, s.box_h + s.gap_y / 2), (trunk_x, bus)]
                part.edges.append(Edge(node, port.child, _tidy([*head, (port.x, bus), *port.tail])))
    # The seat's box may reach left of its blocks (a narrow stack under it): shift all right.
    shift = max(0.0, -box.x)
    right = max(b.x + b.w for b in part.boxes)
    part.width = right + shift
    part = part.moved(shift, 0.0) if shift else part
    root = part.boxes[0]
    part.ports = [_Port(node, root.cx, [(root.cx, 0.0)])]
    return part


def _tidy(points: list[Point]) -> tuple[Point, ...]:
    """Without repeated points and the middle points of straight runs."""
    out: list[Point] = []
    for p in points:
        if out and math.isclose(out[-1][0], p[0], abs_tol=1e-9) and math.isclose(out[-1][1], p[1], abs_tol=1e-9):
            continue
        if len(out) >= 2:
            (ax, ay), (bx, by) = out[-2], out[-1]
            if (math.isclose(ax, bx) and math.isclose(bx, p[0])) or (math.isclose(ay, by) and math.isclose(by, p[1])):
                out[-1] = p
                continue
        out.append(p)
    return tuple(out)


def _forest(nodes: Sequence[tuple[str, str | None]], wrap: float, s: Spacing) -> Layout:
    children: dict[str | None, list[str]] = {}
    for node, parent in nodes:
        children.setdefault(parent, []).append(node)
    tops = [_subtree(t, children, wrap, s) for t in children.get(None, [])]
    boxes: dict[str, Box] = {}
    edges: list[Edge] = []
    y, width = 0.0, 0.0
    for row in _rows(tops, wrap, s):
        x = 0.0
        for part in row:
            moved = part.moved(x, y)
            boxes.update((b.id, b) for b in moved.boxes)
            edges.extend(moved.edges)
            x += part.width + s.gap_x
        width = max(width, x - s.gap_x)
        y += max(p.height for p in row) + s.gap_y * 2
    return Layout(boxes, edges, width, max(0.0, y - s.gap_y * 2))


def layout_tree(nodes: Sequence[tuple[str, str | None]], spacing: Spacing | None = None, aspect: float = 1.6) -> Layout:
    """Boxes and lines for `(seat, parent)` pairs (parent None at the top; a parent before its
    reports, siblings in the order to draw them). Among a few wrap widths, the layout kept is
    the one whose width:height is nearest `aspect` without wasting much more paper than the
    tightest candidate."""
    s = spacing or Spacing()
    known = {n for n, _ in nodes}
    nodes = [(n, p if p in known else None) for n, p in nodes]
    if not nodes:
        return Layout({}, [], 0.0, 0.0)
    wide = _forest(nodes, math.inf, s)
    # Wrap widths from the unwrapped width down to a column's, each 15% narrower than the last.
    candidates = [wide] + [_forest(nodes, wide.width * 0.85**k, s) for k in range(1, 25)]
    tightest = min(c.width * c.height for c in candidates)

    def cost(c: Layout) -> float:
        return abs(math.log(c.width / c.height / aspect)) + 1.5 * math.log(c.width * c.height / tightest)

    return min(candidates, key=cost)
