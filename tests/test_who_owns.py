"""who-owns matching: ids, titles, aliases, accountabilities, owns, typos, plurals, ambiguity."""

from __future__ import annotations

import pytest

from otp_bot.store.domain.chart_sync import apply_chart
from otp_bot.store.domain.chartfile import validate_chart
from otp_bot.store.domain.search import normalize, who_owns

from .charts import chart, seat, with_retired_accounting


@pytest.fixture
def org(db):
    data = chart()
    seat(data, "sales")["aliases"] = ["deals", "pipeline reviews"]
    data["seats"].append({"id": "inbox", "title": "Inbox Triage", "aliases": ["email"],
                          "accountabilities": ["Triage client email", "Surface leads with context"]})
    data["seats"].append({"id": "client-success", "title": "Client Success", "accountabilities": ["Client onboarding calls"]})
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


@pytest.mark.parametrize(("topic", "seat_id"), [
    ("retention", "retention"),            # seat id
    ("Client Retention", "retention"),     # title, case
    ("CHURN", "retention"),                # alias, case
    ("client health", "retention"),        # two-word alias
    ("retenion", "retention"),             # typo
    ("retentoin", "retention"),            # transposition
    ("deal", "sales"),                     # plural alias asked in the singular
    ("pipelines", "sales"),                # owns, asked in the plural
    ("invoices", "accounting"),            # owns "invoicing": another form of the word
    ("retention outreach", "retention"),   # owns
    ("watch churn signals", "retention"),  # accountability
    ("operations", "coo"),
])
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
