"""who-owns: find the seat that owns a topic, tolerating typos, case and plurals.

The index is built once per chart revision (every change to the chart bumps it) and kept
per database. A query costs a dictionary look-up when it names a phrase of one seat;
otherwise only the phrases likely to rank (sharing trigrams or words with it) are scored.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.store.domain.chart.cache import per_chart
from otp_bot.store.domain.chart.question import topic_of
from otp_bot.store.models import Metric, Seat, SeatOwns

# What each kind of phrase is worth: a seat's own names beat a sentence that mentions the topic.
_WEIGHTS = {"id": 1.0, "title": 1.0, "alias": 1.0, "owns": 1.0, "metric": 0.97, "accountability": 0.88}
CONFIDENT = 86.0
MARGIN = 6.0
CANDIDATE_FLOOR = 78.0  # chosen on the labelled questions of tests/store/chart/test_who_owns_quality.py
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


def fold(text: str) -> str:
    """The letters a reader sees, for matching: full-width and other compatibility forms as
    their plain letters (NFKC: `ＲＥＣＡＬＬ` is `RECALL`), case folded, accents dropped."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def normalize(text: str) -> str:
    words = re.sub(r"[^\w]+", " ", fold(text).replace("_", " ")).split()
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
    return {padded[i : i + GRAM] for i in range(len(padded) - GRAM + 1)}


def _each_trigram(phrase: str) -> Iterator[str]:
    """`_trigrams`, repeats included, one at a time."""
    padded = f" {phrase} "
    return (padded[i : i + GRAM] for i in range(len(padded) - GRAM + 1))


@dataclass(frozen=True)
class Postings:
    """For each key (a trigram, a word), the phrases that hold it, in ascending order."""

    holders: dict[str, np.ndarray]  # views into one array of phrase numbers
    sizes: np.ndarray  # distinct keys of each phrase

    @classmethod
    def of(cls, keys_per_phrase: Iterable[Iterable[str]]) -> Postings:
        """Each phrase's keys are numbered as they come, and each (key, phrase) pair is one
        integer, key * 2**32 + phrase, in one array: a 10,000-seat chart has millions of
        pairs, which as Python sets and lists cost hundreds of MB at the build's peak (and
        left a server's heap that much bigger for good). Sorted, the array lists each key's
        phrases in ascending order, one key after the other."""
        numbers: dict[str, int] = {}
        pairs, sizes = array("q"), array("i")
        for i, phrase_keys in enumerate(keys_per_phrase):
            distinct = {numbers.setdefault(k, len(numbers)) for k in phrase_keys}
            pairs.extend([(key << 32) | i for key in distinct])
            sizes.append(len(distinct))
        ordered = np.frombuffer(pairs, dtype=np.int64)
        ordered.sort()  # in place: no second array of millions of indices
        ends = np.searchsorted(ordered, np.arange(1, len(numbers), dtype=np.int64) << 32)
        np.bitwise_and(ordered, 0xFFFFFFFF, out=ordered)  # the phrase of each pair
        flat = ordered.astype(np.int32)
        del ordered
        return cls(
            dict(zip(numbers, np.split(flat, ends) if numbers else [], strict=True)),
            np.frombuffer(sizes, dtype=np.int32).copy(),
        )

    def shared(self, keys: Iterable[str]) -> np.ndarray:
        """How many of `keys` each phrase holds."""
        found = [self.holders[k] for k in keys if k in self.holders]
        if not found:
            return np.zeros(len(self.sizes), dtype=np.intp)
        return np.bincount(np.concatenate(found), minlength=len(self.sizes))


_FIELDS = tuple(_WEIGHTS)  # a phrase's field, kept as its position here


class Entries:
    """Each phrase's (seat_id, field, original text), kept in columns: a seat's id once, the
    field as a byte, the text as the chart writes it. A tuple per phrase, and a copy of its
    seat's id for each, cost as much again as the texts at tens of thousands of phrases."""

    def __init__(self) -> None:
        self.seat_ids: list[str] = []
        self.seat_of = array("i")  # each phrase's seat, a position in seat_ids
        self.field_of = bytearray()  # each phrase's field, a position in _FIELDS
        self.texts: list[str] = []
        self._numbers: dict[str, int] = {}  # seat id -> its position; only while building

    def append(self, seat_id: str, field: str, text: str) -> None:
        if (number := self._numbers.get(seat_id)) is None:
            number = self._numbers[seat_id] = len(self.seat_ids)
            self.seat_ids.append(sys.intern(seat_id))
        self.seat_of.append(number)
        self.field_of.append(_FIELDS.index(field))
        self.texts.append(sys.intern(text))  # the directory's copy is then the same string

    def built(self) -> Entries:
        self._numbers = {}
        return self

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, i: int) -> tuple[str, str, str]:
        return self.seat_ids[self.seat_of[i]], _FIELDS[self.field_of[i]], self.texts[i]


@dataclass
class SearchIndex:
    phrases: list[str]
    entries: Entries  # parallel to phrases
    exact: dict[str, tuple[int, ...]]
    trigrams: Postings
    words: Postings

    @classmethod
    def build(cls, session: Session) -> SearchIndex:
        phrases: list[str] = []
        entries = Entries()
        spelled: dict[str, str] = {}  # one string for each phrase, however many seats write it

        def add(seat_id: str, kind: str, text: str) -> None:
            norm = normalize(text)
            if norm:
                phrases.append(spelled.setdefault(norm, norm))  # a metric's or a title's recurs across seats
                entries.append(seat_id, kind, text)

        # Each result is read as it streams, not held as a list of rows while the next is read.
        rows = session.execute(
            select(Seat.id, Seat.title, Seat.aliases, Seat.accountabilities).where(Seat.status != "retired")
        )
        for seat_id, title, aliases, accountabilities in rows:
            add(seat_id, "id", seat_id)
            add(seat_id, "title", title)
            for a in aliases or []:
                add(seat_id, "alias", a)
            for a in accountabilities or []:
                add(seat_id, "accountability", a)
        owns = session.execute(
            select(SeatOwns.seat_id, SeatOwns.topic)
            .join(Seat, Seat.id == SeatOwns.seat_id)
            .where(Seat.status != "retired")
        )
        for seat_id, topic in owns:
            add(seat_id, "owns", topic)
        metrics = session.execute(
            select(Metric.seat_id, Metric.name)
            .join(Seat, Seat.id == Metric.seat_id)
            .where(Seat.status != "retired")
            .order_by(Metric.seat_id, Metric.position)
        )
        for seat_id, name in metrics:
            add(seat_id, "metric", name)
        found: dict[str, list[int]] = {}
        for i, p in enumerate(phrases):
            found.setdefault(p, []).append(i)
        # A name of three words or more is also asked for by its initials ("mrr"), only exactly,
        # and only where no phrase is written that way.
        initials: dict[str, list[int]] = {}
        for i, p in enumerate(phrases):
            if _FIELDS[entries.field_of[i]] in ("title", "metric", "owns") and len(words := p.split()) >= 3:
                initials.setdefault("".join(w[0] for w in words), []).append(i)
        for key, held in initials.items():
            found.setdefault(key, held)
        return cls(
            phrases,
            entries.built(),
            {key: tuple(held) for key, held in found.items()},
            Postings.of(_each_trigram(p) for p in phrases),
            Postings.of(p.split() for p in phrases),
        )

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

        for i in self.exact.get(norm, ()):
            offer(i, 100.0)
        exact_seats = {c.seat_id for c in scored.values() if c.score >= 100.0}
        if len(exact_seats) == 1:
            return Match(query, scored[exact_seats.pop()])
        for score, i in self._fuzzy(norm):
            offer(i, score)
        match = _decide(query, scored)
        if match.best is None:
            # Not sure: perhaps the chart writes it otherwise (`noshow`, `no show`). Only then,
            # so a confident answer costs no more for it.
            for variant in self._respellings(norm)[:2]:
                for i in self.exact.get(variant, ()):
                    offer(i, 100.0)
                for score, i in self._fuzzy(variant):
                    offer(i, score)
            match = _decide(query, scored)
        return match

    def _respellings(self, norm: str) -> list[str]:
        """The query as the chart may write it: a word it writes as two (`noshow`, `no show`)
        or two it writes as one. Only words the chart does not use are split, only into
        words it does use, so a query in the chart's own words costs dictionary look-ups."""
        vocabulary = self.words.holders
        words = norm.split()
        out: list[str] = []
        for n, word in enumerate(words):
            if word in vocabulary or len(word) < 5:
                continue
            for cut in range(2, len(word) - 1):
                head, tail = word[:cut], _stem(word[cut:])
                if head in vocabulary and tail in vocabulary:
                    out.append(" ".join([*words[:n], head, tail, *words[n + 1 :]]))
                    break
        for n in range(len(words) - 1):
            joined = _stem(words[n] + words[n + 1])
            if joined in vocabulary:
                out.append(" ".join([*words[:n], joined, *words[n + 2 :]]))
        return out

    def _fuzzy(self, norm: str) -> list[tuple[float, int]]:
        """The FUZZY_LIMIT best phrases by `_scores`, best first, ties to the lower index.

        Scoring every phrase is what costs (native passes over the ~68,000 phrases of a
        10,000-seat org take tens of ms), so only the phrases of `_candidates` are scored:
        two native passes over a few hundred phrases.
        """
        candidates = self._candidates(norm)
        scores = _scores(norm, [self.phrases[i] for i in candidates.tolist()])
        kept = np.flatnonzero(scores >= CANDIDATE_FLOOR - 10)
        best = kept[np.lexsort((candidates[kept], -scores[kept]))][:FUZZY_LIMIT]
        return [(float(scores[k]), int(candidates[k])) for k in best]

    def _candidates(self, norm: str) -> np.ndarray:
        """The phrases likely to rank for `norm`, in ascending order.

        A typo or a near-name shares most of its trigrams with the phrase it means: the
        SHORTLIST phrases with the highest trigram Dice coefficient. A phrase holding every
        word of the query, or only words of it, has a token_set_ratio of 100: those tie, and
        a tie goes to the lower index, so the first of them are enough. Left out: phrases
        sharing no word and few trigrams, whose likeness to `norm` is letters in the same
        order (scores just over CANDIDATE_FLOOR, such as "deals" for "yodel").
        """
        grams = _trigrams(norm)
        held = _most_alike(self.trigrams.shared(grams), self.trigrams.sizes, len(grams))
        words = set(norm.split())
        in_common = self.words.shared(words)
        superset = np.flatnonzero(in_common == len(words))[: 2 * FUZZY_LIMIT]
        subset = np.flatnonzero(in_common == self.words.sizes)[: 2 * FUZZY_LIMIT]  # every phrase has a word
        return np.unique(np.concatenate((held, superset, subset)))


def _decide(query: str, scored: dict[str, Candidate]) -> Match:
    """A confident answer when the best seat scores high and clearly above the next;
    otherwise the candidates likely enough to offer; otherwise nothing."""
    ranked = sorted(scored.values(), key=lambda c: -c.score)
    if not ranked or ranked[0].score < CANDIDATE_FLOOR:
        return Match(query, None)
    top = ranked[0]
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    if top.score >= CONFIDENT and top.score - runner_up >= MARGIN:
        return Match(query, top)
    return Match(query, None, [c for c in ranked[:3] if c.score >= CANDIDATE_FLOOR])


def _most_alike(shared: np.ndarray, sizes: np.ndarray, grams: int) -> np.ndarray:
    """The SHORTLIST phrases with the highest Dice coefficient, shared / (grams + size).

    A phrase sharing s trigrams scores at most s / (grams + s). So when the best of the
    phrases sharing at least `least` all score above (least - 1) / (grams + least - 1), no
    phrase below that bar could displace one of them: a query usually settles on a high bar
    and ranks a few hundred phrases rather than every phrase sharing a trigram.
    """
    for least in (max(2, grams // 2), max(2, grams // 4), 1):
        held = np.flatnonzero(shared >= least)
        if len(held) <= SHORTLIST:
            if least == 1:
                return held
            continue  # too few above this bar: the shortlist may take some from below it
        dice = shared[held] / (grams + sizes[held])
        top = np.argpartition(dice, -SHORTLIST)[-SHORTLIST:]
        if least == 1 or dice[top].min() > (least - 1) / (grams + least - 1):
            return held[top]
    raise AssertionError("unreachable: the last bar returns")


def _scores(query: str, phrases: list[str]) -> np.ndarray:
    """Each phrase's likeness to the query, 0-100.

    Whole-phrase similarity catches typos ("retenion"); a query inside a longer phrase
    ("churn" in "churn signals") counts a little less than naming the phrase itself.
    """
    whole = process.cdist([query], phrases, scorer=fuzz.ratio, dtype=np.float64)[0]
    partial = process.cdist([query], phrases, scorer=fuzz.token_set_ratio, dtype=np.float64)[0]
    if len(query) < 4:  # too short for a partial likeness to mean anything: only a whole word counts ("nps")
        partial = np.where(partial >= 100.0, partial, 0.0)
    return np.maximum(whole, partial * 0.92)


def index_for(session: Session) -> SearchIndex:
    return per_chart(session, "search index", SearchIndex.build)


def who_owns(session: Session, question: str) -> Match:
    """The seat that owns the topic of `question` (`who owns churn?` asks about `churn`);
    `Match.query` is that topic, for the answer to name."""
    return index_for(session).search(topic_of(question))
