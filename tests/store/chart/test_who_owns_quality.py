"""who-owns over a labelled set of questions on three charts: the example org and two
written for this (a dental group, a law firm). Each question names the seat that should
answer, or `none`.

Measured per question: the answer (a confident seat), the offer (a confident seat or the
candidates shown), or nothing.
- precision: of the questions that got a confident answer, the share answered right;
- offer precision: of the questions that got any seat offered, the share whose offer holds
  the right seat (every offer to a `none` question counts against it);
- recall: of the questions with a seat, the share answered right with confidence;
- offer recall: the share whose right seat was answered or offered.

`python -m tests.test_who_owns_quality` prints these for a range of thresholds: how the
constants in store/domain/chart/search.py were chosen.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from otp_bot.store.db import Database
from otp_bot.store.domain.chart import search
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.search import SearchIndex
from otp_bot.store.domain.chart.sync.apply import apply_chart
from tests.support.paths import DATA, EXAMPLES

CHARTS = {
    "example": EXAMPLES / "acme-agency.yaml",
    "dental": DATA / "who_owns" / "dental-group.yaml",
    "law": DATA / "who_owns" / "law-firm.yaml",
}
QUERIES: dict[str, dict[str, str]] = yaml.safe_load((DATA / "who_owns" / "queries.yaml").read_text())


@dataclass
class Scores:
    precision: float
    offer_precision: float
    recall: float
    offer_recall: float
    misses: list[str]


def build_indexes(folder: Path) -> dict[str, SearchIndex]:
    indexes = {}
    for name, path in CHARTS.items():
        db = Database(f"sqlite:///{folder / name}.db", auto_migrate=True)
        with db.session() as s:
            apply_chart(s, validate_chart(yaml.safe_load(path.read_text()), str(path)), actor="t", source="t")
        with db.session() as s:
            indexes[name] = SearchIndex.build(s)
        db.dispose()
    return indexes


def measure(indexes: dict[str, SearchIndex]) -> Scores:
    answered = answered_right = offered = offered_right = with_seat = 0
    right_answers = right_offers = 0
    misses = []
    for chart, queries in QUERIES.items():
        for query, expected in queries.items():
            match = indexes[chart].search(search.topic_of(query))
            offer = [match.best.seat_id] if match.best else [c.seat_id for c in match.candidates]
            seat = None if expected == "none" else expected
            with_seat += seat is not None
            if match.best:
                answered += 1
                answered_right += match.best.seat_id == seat
                right_answers += match.best.seat_id == seat
            if offer:
                offered += 1
                offered_right += seat in offer
            right_offers += seat is not None and seat in offer
            if (match.best.seat_id if match.best else None) != seat or (seat is None and offer):
                misses.append(f"{chart}: {query!r} → {offer or 'none'}, expected {expected}")
    return Scores(
        answered_right / answered, offered_right / offered, right_answers / with_seat, right_offers / with_seat, misses
    )


@pytest.fixture(scope="module")
def indexes(tmp_path_factory):
    return build_indexes(tmp_path_factory.mktemp("charts"))


def test_the_labelled_questions_are_answered_with_the_thresholds_shipped(indexes):
    scores = measure(indexes)
    assert scores.precision >= 0.98, scores.misses
    assert scores.offer_precision >= 0.95, scores.misses
    assert scores.recall >= 0.85, scores.misses
    assert scores.offer_recall >= 0.93, scores.misses


def sweep() -> None:
    with tempfile.TemporaryDirectory() as folder:
        indexes = build_indexes(Path(folder))
    total = sum(len(q) for q in QUERIES.values())
    print(
        f"{total} questions; thresholds now: candidates from {search.CANDIDATE_FLOOR}, "
        f"confident from {search.CONFIDENT} with a margin of {search.MARGIN}"
    )
    print("floor  confident  precision  offer-precision  recall  offer-recall")
    shipped = (search.CANDIDATE_FLOOR, search.CONFIDENT)
    for floor in range(56, 92, 2):
        for confident in (80.0, 84.0, 86.0, 88.0, 90.0):
            if confident < floor:
                continue
            search.CANDIDATE_FLOOR, search.CONFIDENT = float(floor), confident
            s = measure(indexes)
            print(
                f"{floor:5}  {confident:9.0f}  {s.precision:9.3f}  {s.offer_precision:15.3f}  {s.recall:6.3f}"
                f"  {s.offer_recall:12.3f}"
            )
    for floor in (60, 66, 70, 74, 78, 84):
        search.CANDIDATE_FLOOR, search.CONFIDENT = float(floor), shipped[1]
        print(f"missed with candidates from {floor}:")
        for miss in measure(indexes).misses:
            print("  ", miss)
    search.CANDIDATE_FLOOR, search.CONFIDENT = shipped


if __name__ == "__main__":
    sys.exit(sweep())
