"""who-owns matching: ids, titles, aliases, accountabilities, owns, typos, plurals, ambiguity."""

from __future__ import annotations

import pytest
from rapidfuzz import fuzz

from otp_bot.store.domain.chart import search
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.search import CANDIDATE_FLOOR, FUZZY_LIMIT, SHORTLIST, index_for, normalize, who_owns
from otp_bot.store.domain.chart.sync.apply import apply_chart
from tests.support.charts import chart, seat, with_retired_accounting


@pytest.fixture
def org(db):
    data = chart()
    seat(data, "sales")["aliases"] = ["deals", "pipeline reviews"]
    data["seats"].append(
        {
            "id": "inbox",
            "title": "Inbox Triage",
            "aliases": ["email"],
            "accountabilities": ["Triage client email", "Surface leads with context"],
        }
    )
    data["seats"].append(
        {"id": "client-success", "title": "Client Success", "accountabilities": ["Client onboarding calls"]}
    )
    with db.session() as s:
        apply_chart(s, validate_chart(data, "t"), actor="t", source="t")
    return db


def best(db, topic):
    with db.session() as s:
        match = who_owns(s, topic)
    return match.best.seat_id if match.best else None


def candidates(db, topic):
    with db.session() as s:
        return [c.seat_id for c in who_owns(s, topic).candidates]


@pytest.mark.parametrize(
    ("topic", "seat_id"),
    [
        ("retention", "retention"),  # seat id
        ("Client Retention", "retention"),  # title, case
        ("CHURN", "retention"),  # alias, case
        ("client health", "retention"),  # two-word alias
        ("retenion", "retention"),  # typo
        ("retentoin", "retention"),  # transposition
        ("deal", "sales"),  # plural alias asked in the singular
        ("pipelines", "sales"),  # owns, asked in the plural
        ("invoices", "accounting"),  # owns "invoicing": another form of the word
        ("retention outreach", "retention"),  # owns
        ("watch churn signals", "retention"),  # accountability
        ("operations", "coo"),
    ],
)
def test_confident_matches(org, topic, seat_id):
    assert best(org, topic) == seat_id


def test_ambiguous_topic_offers_up_to_three_candidates(org):
    # "client" appears in several seats' names and duties: no guess, a choice.
    assert best(org, "client") is None
    found = candidates(org, "client")
    assert 2 <= len(found) <= 3 and "retention" in found


@pytest.mark.parametrize("topic", ["pizza delivery", "zzzz", "quantum chromodynamics"])
def test_no_match(org, topic):
    assert best(org, topic) is None and candidates(org, topic) == []


def test_retired_seats_are_not_answers(db):
    data = with_retired_accounting()
    with db.session() as s:
        apply_chart(s, validate_chart(data, "t"), actor="t", source="t")
        assert who_owns(s, "invoicing").best is None


def test_index_follows_chart_changes(org):
    assert best(org, "deal") == "sales"
    data = chart()
    seat(data, "retention")["aliases"] = ["deals"]
    with org.session() as s:
        apply_chart(s, validate_chart(data, "t"), actor="t", source="t")
    assert best(org, "deals") == "retention"


def test_normalize_handles_plurals_case_and_punctuation():
    assert normalize("Clients' Health!") == "client health"
    assert normalize("Strategies") == "strategy"
    assert normalize("business") == "business"
    assert normalize("invoicing") == normalize("invoices") == normalize("Invoice")


@pytest.mark.parametrize("topic", ["", "   ", "?!", "--"])
def test_a_topic_with_no_words_matches_nothing(org, topic):
    with org.session() as s:
        match = who_owns(s, topic)
    assert match.best is None and match.candidates == []


# A chart with far more phrases than the fuzzy pass scores (SHORTLIST), so the index decides
# which phrases are scored: its answers must be those of scoring every phrase.
REGIONS = [
    "emea",
    "apac",
    "latam",
    "nordic",
    "dach",
    "benelux",
    "iberia",
    "baltic",
    "balkan",
    "gulf",
    "andes",
    "sahel",
    "alpine",
    "levant",
    "pacific",
    "caribbean",
]
AREAS = ["billing", "payroll", "freight", "onboarding", "procurement", "warehouse", "compliance", "forecasting"]
ACTS = ["reconciliation", "escalations", "audits", "planning", "reporting"]


@pytest.fixture(scope="module")
def big_index(templates):
    from tests.support.stores import cloned_store

    data = chart()
    for n, (region, area) in enumerate((r, a) for r in REGIONS for a in AREAS):
        data["seats"].append(
            {
                "id": f"{region}-{area}-{n}",
                "title": f"{region} {area} lead",
                "reports_to": "coo",
                "aliases": [area, f"{region} {area}"],
                "accountabilities": [f"Review {area} {act} for {region}" for act in ACTS[:2]],
                "owns": [f"{region} {area} {act}" for act in ACTS],
            }
        )
    for db in cloned_store(templates, "empty"):
        with db.session() as s:
            apply_chart(s, validate_chart(data, "t"), actor="t", source="t")
        with db.session() as s:
            index = index_for(s)
        yield index


def score(query, phrase):
    """A phrase's likeness, one pair at a time: what the index computes for many at once."""
    whole = fuzz.ratio(query, phrase)
    partial = fuzz.token_set_ratio(query, phrase)
    if len(query) < 4 and partial < 100:  # a short query counts only as a whole word of the phrase
        partial = 0.0
    return max(whole, partial * 0.92)


def everything_scored(index, topic):
    """The definition the index must meet: every phrase scored, best first, ties to the lower index."""
    norm = normalize(topic)
    scored = [(s, i) for i, phrase in enumerate(index.phrases) if (s := score(norm, phrase)) >= CANDIDATE_FLOOR - 10]
    return sorted(scored, key=lambda pair: (-pair[0], pair[1]))[:FUZZY_LIMIT]


def test_the_big_chart_has_more_phrases_than_are_scored(big_index):
    assert len(big_index.phrases) > 2 * SHORTLIST


@pytest.mark.parametrize(
    "topic",
    [
        "nordic procurment reconcilation",  # typos in a long phrase
        "benleux warehouse escalatoins",
        "baltik freight audit",
        "gulf compliance forecast",  # words of several phrases
        "review payroll planning for iberia",
    ],
)
def test_typos_of_long_phrases_score_as_if_every_phrase_were_scored(big_index, topic):
    assert big_index._fuzzy(normalize(topic)) == everything_scored(big_index, topic)


@pytest.mark.parametrize("topic", ["billing", "audits", "emea", "forecasting planning"])
def test_ties_go_to_the_first_phrases_in_chart_order(big_index, topic, monkeypatch):
    # Each word is held by dozens of phrases, all with the same score: more than are kept.
    # Found by their words, not by trigrams: a short trigram shortlist must not change them.
    monkeypatch.setattr(search, "SHORTLIST", 2 * FUZZY_LIMIT)
    ranked = big_index._fuzzy(normalize(topic))
    assert ranked == everything_scored(big_index, topic)
    assert len({score for score, _ in ranked}) < len(ranked)


def test_a_typo_of_a_long_phrase_finds_its_seat(big_index):
    match = big_index.search("nordic procurment reconcilation")
    assert match.best is not None and match.best.matched == "nordic procurement reconciliation"
