"""who-owns: find the seat that owns a topic, tolerating typos, case and plurals.

The index is built once per chart revision (every import bumps it) and kept per
database, so a query costs a dictionary look-up or two native rapidfuzz passes.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.domain.chart import get_org
from otp_bot.store.models import Seat, SeatOwns

# What each kind of phrase is worth: a seat's own names beat a sentence that mentions the topic.
_WEIGHTS = {"id": 1.0, "title": 1.0, "alias": 1.0, "owns": 1.0, "accountability": 0.88}
CONFIDENT = 86.0
MARGIN = 6.0
CANDIDATE_FLOOR = 60.0
FUZZY_LIMIT = 30  # phrases the fuzzy pass hands on; several may belong to one seat


def _singular(word: str) -> str:
    if len(word) <= 3 or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    return word[:-1] if word.endswith("s") else word


def _stem(word: str) -> str:
    """A light stem so `invoices`, `invoice` and `invoicing` meet: plural, then -ing/-ed/-e."""
    word = _singular(word)
    for suffix, keep in (("ing", 4), ("ed", 4), ("e", 4)):
        if word.endswith(suffix) and len(word) - len(suffix) >= keep:
            return word[: -len(suffix)]
    return word


def normalize(text: str) -> str:
    words = re.sub(r"[^\w]+", " ", text.lower().replace("_", " ")).split()
    return " ".join(_stem(w) for w in words)


@dataclass(frozen=True)
class Candidate:
    seat_id: str
    score: float
    matched: str  # the phrase that matched, as written in the chart
    field: str


@dataclass
class Match:
    query: str
    best: Candidate | None  # set when confident
    candidates: list[Candidate] = field(default_factory=list)  # when unsure: up to three


@dataclass
class SearchIndex:
    phrases: list[str]
    entries: list[tuple[str, str, str]]  # (seat_id, field, original text), parallel to phrases
    exact: dict[str, list[int]]

    @classmethod
    def build(cls, session: Session) -> SearchIndex:
        phrases: list[str] = []
        entries: list[tuple[str, str, str]] = []
        rows = session.execute(
            select(Seat.id, Seat.title, Seat.aliases, Seat.accountabilities).where(Seat.status != "retired")
        ).all()
        owns = session.execute(
            select(SeatOwns.seat_id, SeatOwns.topic).join(Seat, Seat.id == SeatOwns.seat_id).where(Seat.status != "retired")
        ).all()

        def add(seat_id: str, kind: str, text: str) -> None:
            norm = normalize(text)
            if norm:
                phrases.append(norm)
                entries.append((seat_id, kind, text))

        for seat_id, title, aliases, accountabilities in rows:
            add(seat_id, "id", seat_id)
            add(seat_id, "title", title)
            for a in aliases or []:
                add(seat_id, "alias", a)
            for a in accountabilities or []:
                add(seat_id, "accountability", a)
        for seat_id, topic in owns:
            add(seat_id, "owns", topic)
        exact: dict[str, list[int]] = {}
        for i, p in enumerate(phrases):
            exact.setdefault(p, []).append(i)
        return cls(phrases, entries, exact)

    def search(self, query: str) -> Match:
        norm = normalize(query)
        if not norm:
            return Match(query, None)
        scored: dict[str, Candidate] = {}

        def offer(i: int, score: float) -> None:
            seat_id, kind, text = self.entries[i]
            score *= _WEIGHTS[kind]
            if seat_id not in scored or scored[seat_id].score < score:
                scored[seat_id] = Candidate(seat_id, score, text, kind)

        for i in self.exact.get(norm, []):
            offer(i, 100.0)
        exact_seats = {c.seat_id for c in scored.values() if c.score >= 100.0}
        if len(exact_seats) == 1:
            return Match(query, scored[exact_seats.pop()])
        for score, i in self._fuzzy(norm):
            offer(i, score)
        ranked = sorted(scored.values(), key=lambda c: -c.score)
        if not ranked or ranked[0].score < CANDIDATE_FLOOR:
            return Match(query, None)
        top = ranked[0]
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        if top.score >= CONFIDENT and top.score - runner_up >= MARGIN:
            return Match(query, top)
        return Match(query, None, [c for c in ranked[:3] if c.score >= CANDIDATE_FLOOR])

    def _fuzzy(self, norm: str) -> list[tuple[float, int]]:
        """The FUZZY_LIMIT best phrases by `_score`, best first, ties to the lower index:
        what `process.extract(norm, phrases, scorer=_score, ...)` returns, about 3x faster.

        Calling a Python scorer on every phrase is what costs (over 100 ms for the ~68,000
        phrases of a 10,000-seat org). `_score` is the larger of two native scores, and a
        phrase's rank by `_score` is never worse than its rank by the native score it took
        (ties go to the lower index in both): so the best by `_score` are among the best
        by `fuzz.ratio` or by `fuzz.token_set_ratio`. Two native passes shortlist those
        (twice the limit each: a margin over what that argument needs), and only the
        shortlist is scored in Python.
        """
        cutoff = CANDIDATE_FLOOR - 10
        shortlist = {i for _, _, i in process.extract(norm, self.phrases, scorer=fuzz.ratio,
                                                      limit=2 * FUZZY_LIMIT, score_cutoff=cutoff)}
        if len(norm) >= 4:  # shorter queries get no partial score (see _score)
            shortlist |= {i for _, _, i in process.extract(norm, self.phrases, scorer=fuzz.token_set_ratio,
                                                           limit=2 * FUZZY_LIMIT, score_cutoff=cutoff)}
        scored = [(score, i) for i in shortlist if (score := _score(norm, self.phrases[i])) >= cutoff]
        return sorted(scored, key=lambda s: (-s[0], s[1]))[:FUZZY_LIMIT]


def _score(query: str, phrase: str) -> float:
    # Whole-phrase similarity catches typos ("retenion"); a query inside a longer phrase
    # ("churn" in "churn signals") counts a little less than naming the phrase itself.
    whole = fuzz.ratio(query, phrase)
    partial = fuzz.token_set_ratio(query, phrase) * 0.92 if len(query) >= 4 else 0.0
    return max(whole, partial)


_CACHE: dict[tuple[str, str], SearchIndex] = {}
_CACHE_LOCK = threading.Lock()


def index_for(session: Session) -> SearchIndex:
    org = get_org(session)
    key = (str(session.get_bind().url), org.etag)
    with _CACHE_LOCK:
        index = _CACHE.get(key)
    if index is None:
        index = SearchIndex.build(session)
        with _CACHE_LOCK:
            for stale in [k for k in _CACHE if k[0] == key[0]]:
                del _CACHE[stale]
            _CACHE[key] = index
    return index


def who_owns(session: Session, topic: str) -> Match:
    return index_for(session).search(topic)
