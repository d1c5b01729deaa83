"""who-owns: find the seat that owns a topic, tolerating typos, case and plurals.

The index is built once per chart revision (every change to the chart bumps it) and kept
per database. A query costs a dictionary look-up when it names a phrase of one seat;
otherwise only the phrases likely to rank (sharing trigrams or words with it) are scored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.db import Database
from otp_bot.store.domain.chart_cache import per_chart
from otp_bot.store.models import Org, Seat, SeatOwns

# What each kind of phrase is worth: a seat's own names beat a sentence that mentions the topic.
_WEIGHTS = {"id": 1.0, "title": 1.0, "alias": 1.0, "owns": 1.0, "accountability": 0.88}
CONFIDENT = 86.0
MARGIN = 6.0
CANDIDATE_FLOOR = 60.0
FUZZY_LIMIT = 30  # phrases the fuzzy pass hands on; several may belong to one seat
GRAM = 3
SHORTLIST = 500  # phrases most alike by trigrams that the fuzzy pass scores


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


def _trigrams(phrase: str) -> set[str]:
    padded = f" {phrase} "  # so a word's first and last letters count as much as its middle
    return {padded[i:i + GRAM] for i in range(len(padded) - GRAM + 1)}


@dataclass(frozen=True)
class Postings:
    """For each key (a trigram, a word), the phrases that hold it, in ascending order."""

    holders: dict[str, np.ndarray]
    sizes: np.ndarray  # distinct keys of each phrase

    @classmethod
    def of(cls, keys_per_phrase: list[set[str]]) -> Postings:
        holders: dict[str, list[int]] = {}
        for i, keys in enumerate(keys_per_phrase):
            for key in keys:
                holders.setdefault(key, []).append(i)
        return cls({k: np.array(v, dtype=np.int32) for k, v in holders.items()},
                   np.array([len(k) for k in keys_per_phrase], dtype=np.int32))

    def shared(self, keys: Iterable[str]) -> np.ndarray:
        """How many of `keys` each phrase holds."""
        found = [self.holders[k] for k in keys if k in self.holders]
        if not found:
            return np.zeros(len(self.sizes), dtype=np.intp)
        return np.bincount(np.concatenate(found), minlength=len(self.sizes))


@dataclass
class SearchIndex:
    phrases: list[str]
    entries: list[tuple[str, str, str]]  # (seat_id, field, original text), parallel to phrases
    exact: dict[str, list[int]]
    trigrams: Postings
    words: Postings

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
        return cls(phrases, entries, exact, Postings.of([_trigrams(p) for p in phrases]),
                   Postings.of([set(p.split()) for p in phrases]))

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
        """The FUZZY_LIMIT best phrases by `_score`, best first, ties to the lower index.

        Calling a Python scorer on every phrase is what costs (over 100 ms for the ~68,000
        phrases of a 10,000-seat org), and so do native passes over all of them. Only the
        phrases of `_candidates` are scored. Among those, `_score` is the larger of two
        native scores, and a phrase's rank by `_score` is never worse than its rank by the
        native score it took (ties go to the lower index in both): so the best by `_score`
        are among the best by `fuzz.ratio` or by `fuzz.token_set_ratio`. Two native passes
        shortlist those (twice the limit each: a margin over what that argument needs), and
        only the shortlist is scored in Python.
        """
        cutoff = CANDIDATE_FLOOR - 10
        choices = {i: self.phrases[i] for i in self._candidates(norm)}
        shortlist = {i for _, _, i in process.extract(norm, choices, scorer=fuzz.ratio,
                                                      limit=2 * FUZZY_LIMIT, score_cutoff=cutoff)}
        if len(norm) >= 4:  # shorter queries get no partial score (see _score)
            shortlist |= {i for _, _, i in process.extract(norm, choices, scorer=fuzz.token_set_ratio,
                                                           limit=2 * FUZZY_LIMIT, score_cutoff=cutoff)}
        scored = [(score, i) for i in shortlist if (score := _score(norm, self.phrases[i])) >= cutoff]
        return sorted(scored, key=lambda s: (-s[0], s[1]))[:FUZZY_LIMIT]

    def _candidates(self, norm: str) -> list[int]:
        """The phrases likely to rank for `norm`, in ascending order.

        A typo or a near-name shares most of its trigrams with the phrase it means: the
        SHORTLIST phrases with the highest trigram Dice coefficient. A phrase holding every
        word of the query, or only words of it, has a token_set_ratio of 100: those tie, and
        a tie goes to the lower index, so the first of them are enough. Left out: phrases
        sharing no word and few trigrams, whose likeness to `norm` is letters in the same
        order (scores just over CANDIDATE_FLOOR, such as "deals" for "yodel").
        """
        grams = _trigrams(norm)
        shared = self.trigrams.shared(grams)
        held = np.flatnonzero(shared)
        if len(held) > SHORTLIST:
            dice = shared[held] / (len(grams) + self.trigrams.sizes[held])
            held = held[np.argpartition(dice, -SHORTLIST)[-SHORTLIST:]]
        words = set(norm.split())
        in_common = self.words.shared(words)
        superset = np.flatnonzero(in_common == len(words))[:2 * FUZZY_LIMIT]
        subset = np.flatnonzero((in_common > 0) & (in_common == self.words.sizes))[:2 * FUZZY_LIMIT]
        return sorted({*held.tolist(), *superset.tolist(), *subset.tolist()})


def _score(query: str, phrase: str) -> float:
    # Whole-phrase similarity catches typos ("retenion"); a query inside a longer phrase
    # ("churn" in "churn signals") counts a little less than naming the phrase itself.
    whole = fuzz.ratio(query, phrase)
    partial = fuzz.token_set_ratio(query, phrase) * 0.92 if len(query) >= 4 else 0.0
    return max(whole, partial)


def index_for(session: Session) -> SearchIndex:
    return per_chart(session, "search index", SearchIndex.build)


def warm(db: Database) -> None:
    """Builds the current chart's index now, so that the first question does not wait for it."""
    with db.session(readonly=True) as session:
        if session.get(Org, 1) is not None:  # no chart yet: nothing to index
            index_for(session)


def who_owns(session: Session, topic: str) -> Match:
    return index_for(session).search(topic)
