"""The OOS importer: pure conversion from the OTP platform's format to a validated chart.
Here: the samples, and how each part of a document maps."""

from __future__ import annotations

import pytest

from otp_bot.store.domain.chart.chartfile.schema import ChartSpec
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.chartfile.yaml_text import dump_chart, parse_yaml
from otp_bot.store.domain.chart.file_import import load_chart
from otp_bot.store.domain.chart.oos import convert_oos_file, convert_oos_text
from tests.support.oos import SAMPLE_JSON, SAMPLE_MD, agent, convert, doc, holder, seat

# -- the samples ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample() -> tuple[ChartSpec, list[str]]:
    found = convert_oos_file(SAMPLE_MD)
    return found.chart, found.report


def test_both_samples_give_the_same_chart_and_report(sample):
    found = convert_oos_file(SAMPLE_JSON)
    assert (found.chart, found.report) == sample


def test_sample_is_a_valid_chart_file_once_dumped(sample):
    chart, _ = sample
    assert validate_chart(parse_yaml(dump_chart(chart), "dump"), "dump") == chart


def test_load_chart_reads_oos_files(sample):
    assert load_chart(SAMPLE_MD) == sample[0]
    assert load_chart(SAMPLE_JSON) == sample[0]


def test_sample_org_holders_and_seats(sample):
    chart, _ = sample
    assert (chart.org.name, chart.org.timezone) == ("Sneeze It", "America/New_York")
    humans = {h.id for h in chart.holders if h.kind == "human"}
    agents = {h.id for h in chart.holders if h.kind == "agent"}
    assert humans == {"david", "bogdan", "janine", "kristen"}
    assert agents == {"radar", "dash", "dirk", "pulse", "pepper", "arin", "tally", "crystal", "nick", "jeff"}
    assert seat(chart, "chief-operating-officer").holder == "bogdan"
    assert seat(chart, "ceo-founder").holder == "david"


def test_agent_maps_to_holder_and_seat(sample):
    chart, _ = sample
    retention = seat(chart, "client-retention")
    assert retention.title == "Client Retention"
    assert retention.holder == "pulse"
    assert retention.owns == ["Client health scoring", "At-risk flags", "Retention outreach"]
    assert retention.does_not_own == ["Expansion outreach"]
    assert retention.accountabilities[0] == "Watch churn signals and draft retention outreach to clients"
    assert retention.reports_to == "chief-operating-officer"
    assert retention.customer_facing
    assert holder(chart, "pulse").supervisor == "bogdan"
    assert not seat(chart, "analytics").customer_facing


def test_escalation_chains_give_reporting_lines_and_supervisors(sample):
    chart, _ = sample
    # Nick escalates to Dirk, Dirk to Bogdan: Nick's seat reports to Sales, Bogdan supervises.
    assert seat(chart, "cold-prospecting").reports_to == "sales"
    assert holder(chart, "nick").supervisor == "bogdan"
    # Pepper escalates to Radar, Radar to David.
    assert seat(chart, "inbox").reports_to == "chief-of-staff"
    assert holder(chart, "pepper").supervisor == "david"


def test_humans_report_along_receives_escalations_from(sample):
    chart, _ = sample
    assert seat(chart, "chief-operating-officer").reports_to == "ceo-founder"
    assert seat(chart, "accounting").reports_to == "chief-operating-officer"
    assert seat(chart, "ceo-founder").reports_to is None


def test_deprecated_agent_keeps_holder_but_its_seat_is_retired(sample):
    chart, report = sample
    jeff = seat(chart, "data-integrity")
    assert jeff.status == "retired" and jeff.holder is None
    assert holder(chart, "jeff").supervisor == "bogdan"
    # Its topics belong to Dash and Dirk now: one owner per topic.
    assert jeff.owns == []
    assert any("'CRM data integrity' is owned by seat 'sales'" in line for line in report)


def test_approves_naming_agents_become_approvals(sample):
    chart, report = sample
    approvals = {a.seats[0]: a.approvers for a in chart.approvals}
    assert approvals == {
        "chief-of-staff": ["david"],
        "inbox": ["david"],
        "sales": ["bogdan"],
        "client-retention": ["bogdan"],
        "cold-prospecting": ["bogdan"],
    }
    # What names no agent is a kind of draft: routed for the agents below that human.
    assert chart.approvals[0].kinds == ["operating-model-changes"]
    assert (
        "entities.humans[0].approves: drafts of kind `operating-model-changes` from chief-of-staff, inbox, "
        "kpi-tracking go to David "
        "(a draft's kind is what the agent submits it as)"
    ) in report
    assert (
        "entities.humans[3].approves: `ad-creative` kept nowhere: no agent that drafts escalates to Kristen" in report
    )


def test_conflict_protocol_becomes_a_policy(sample):
    chart, report = sample
    policy = next(p for p in chart.policies if p.name == "retention-wins-over-expansion")
    assert policy.winner == "client-retention"
    assert policy.description.startswith("Pulse wins.")
    assert (policy.hold_kind, policy.while_flag) == ("expansion", "at-risk")
    assert policy.extra["parties"] == ["client-retention", "sales"]  # references kept as the chart's seat ids
    assert policy.extra["escalation"] == "HMN-002"
    assert "detection" in policy.extra and "resolution" not in policy.extra
    assert any("retention-wins-over-expansion" in line and "check it" in line for line in report)
    unnamed = next(p for p in chart.policies if p.name == "conflict-pepper-dirk")
    assert unnamed.winner is None and unnamed.hold_kind is None and unnamed.while_flag is None


def test_override_rule_becomes_a_policy(sample):
    chart, _ = sample
    policy = next(p for p in chart.policies if p.name == "override-bogdan-pulse")
    assert policy.winner == "chief-operating-officer"
    assert policy.extra == {
        "overrider": "chief-operating-officer",
        "overridden": "client-retention",
        "condition": "Bogdan has spoken with the client and judges the churn risk resolved",
        "scope": "at-risk flags and the expansion holds they cause",
    }
    assert policy.description.startswith("Bogdan may override Pulse when")


def test_sample_report_lists_what_was_not_kept(sample):
    _, report = sample
    text = "\n".join(report)
    assert "front matter: not kept (the chart has no place for them): version='1.2'" in text
    assert "entities.agents[9].retired_note: unknown key" in text
    assert "entities.humans[].override_authority: not kept, the chart has no place for it (2 humans)" in text
    assert "AGT-004 = pulse" in text
    chart, _ = sample
    assert seat(chart, "client-retention").authority == "semi_autonomous"


# -- mapping details ---------------------------------------------------------------------


def test_status_mapping():
    chart, _ = convert(
        doc(
            [
                agent(1, "Ava", "Support", status="planned"),
                agent(2, "Old", "Legacy", status="deprecated"),
                agent(3, "Now", "Ops", status="active"),
                agent(4, "Def", "Default"),
            ]
        )
    )
    assert (seat(chart, "support").status, seat(chart, "support").holder) == ("planned", "ava")
    assert (seat(chart, "legacy").status, seat(chart, "legacy").holder) == ("retired", None)
    assert seat(chart, "ops").effective_status == "active"
    assert seat(chart, "default").effective_status == "active"


def test_front_matter_with_org_mapping_and_body():
    text = """---
org: {name: Acme, timezone: Europe/Paris, slug: acme}
entities:
  humans: [{id: H1, name: Ann, role: CEO}]
  agents: [{id: A1, name: Zed, role: Research, escalates_to: H1}]
---
# Notes that are not imported
"""
    found = convert_oos_text(text, "acme.oos.md")
    chart, report = found.chart, found.report
    assert (chart.org.name, chart.org.timezone) == ("Acme", "Europe/Paris")
    assert holder(chart, "zed").supervisor == "ann"
    assert any(line.startswith("org.slug: not kept") for line in report)


def test_supervisor_from_receives_escalations_from():
    humans = [{"id": "HMN-001", "name": "Bo", "role": "COO", "receives_escalations_from": ["AGT-001"]}]
    chart, _ = convert(doc([{"id": "AGT-001", "name": "Ava", "role": "Support"}], humans))
    assert holder(chart, "ava").supervisor == "bo"
    assert seat(chart, "support").reports_to == "coo"


def test_slugs_are_unique_and_collisions_reported():
    chart, report = convert(
        doc([agent(1, "Echo", "Research"), agent(2, "Echo", "Research"), agent(3, "Ünïcode Bot", "R&D")])
    )
    assert [h.id for h in chart.holders if h.kind == "agent"] == ["echo", "echo-2", "unicode-bot"]
    assert [s.id for s in chart.seats][1:] == ["research", "research-2", "r-d"]
    assert any("holder id 'echo-2'" in line for line in report)
    assert any("seat id 'research-2'" in line for line in report)


def test_unmappable_content_is_reported_not_dropped():
    humans = [
        {
            "id": "HMN-001",
            "name": "Bo",
            "role": "COO",
            "authority_level": "overlord",
            "receives_escalations_from": ["HMN-404"],
            "approves": ["AGT-404", "HMN-001", "press releases"],
            "slack": "U123",
        }
    ]
    data = doc(
        [agent(1, "Ava", "Support", authority_level="autonomous", mood="cheerful")],
        humans,
        generated_at="2026-06-21",
        entities_extra=None,
    )
    data["entities"]["teams"] = [{"name": "Delivery"}]
    data["entities"]["conflict_protocols"] = [
        {"parties": ["AGT-001", "AGT-999"], "winner": "AGT-999", "resolution": "Ava wins"}
    ]
    chart, report = convert(data)
    text = "\n".join(report)
    for expected in (
        "front matter: not kept (the chart has no place for them): generated_at='2026-06-21'",
        "entities_extra: unknown key; not imported",
        "entities.teams: unknown section; not imported",
        "entities.humans[0].slack: unknown key",
        "entities.agents[0].mood: unknown key",
        "entities.humans[0].authority_level: 'overlord' is not a level OTP's schema names; not kept",
        "receives_escalations_from[0]: unknown id 'HMN-404'",
        "approves[1]: 'HMN-001' is a human",
        "drafts of kind `agt-404`, `press-releases` from support go to Bo",
        "conflict_protocols[0].parties[1]: 'AGT-999' names no agent or human of this file",
        "conflict_protocols[0].winner: 'AGT-999' names no agent or human of this file",
    ):
        assert expected in text, expected
    assert seat(chart, "support").authority == "autonomous"
    assert [a.kinds for a in chart.approvals] == [["agt-404", "press-releases"]]
    assert chart.policies[0].winner is None
    assert chart.policies[0].extra["winner"] == "AGT-999"  # the original survives in extra


def test_references_by_name_or_role_resolve():
    humans = [{"id": "HMN-001", "name": "Bo", "role": "COO", "approves": ["Support", "ava"]}]
    chart, _ = convert(doc([agent(1, "Ava", "Support", escalates_to="Bo")], humans))
    assert holder(chart, "ava").supervisor == "bo"
    assert [(a.seats, a.approvers) for a in chart.approvals] == [(["support"], ["bo"])]


def test_two_humans_approving_one_agent_share_one_approval():
    humans = [
        {"id": "H1", "name": "Bo", "role": "COO", "approves": ["A1"]},
        {"id": "H2", "name": "Di", "role": "CEO", "approves": ["A1"]},
    ]
    chart, _ = convert(doc([{"id": "A1", "name": "Ava", "role": "Support", "escalates_to": "H1"}], humans))
    assert [(a.seats, a.approvers) for a in chart.approvals] == [(["support"], ["bo", "di"])]


def test_churn_risk_detection_sets_a_hold_and_plain_text_does_not():
    data = doc([agent(1, "Pulse", "Retention"), agent(2, "Dirk", "Sales")])
    data["entities"]["conflict_protocols"] = [
        {
            "parties": ["AGT-001", "AGT-002"],
            "winner": "AGT-001",
            "resolution": "Pulse wins",
            "detection": "Upsell pitched to a client on the churn risk list",
        },
        {
            "parties": ["AGT-001", "AGT-002"],
            "winner": "AGT-002",
            "resolution": "Dirk wins",
            "detection": "Both want the same meeting slot",
        },
    ]
    data["entities"]["override_rules"] = [
        {"overrider": "HMN-001", "overridden": "AGT-001"},
        {"overrider": "HMN-001", "overridden": "AGT-001", "scope": "again"},
    ]
    chart, _ = convert(data)
    first, second, o1, o2 = chart.policies
    assert (first.name, first.hold_kind, first.while_flag, first.winner) == (
        "pulse-wins-over-dirk",
        "expansion",
        "at-risk",
        "retention",
    )
    assert (second.name, second.hold_kind, second.winner) == ("dirk-wins-over-pulse", None, "sales")
    assert (o1.name, o2.name) == ("override-bo-pulse", "override-bo-pulse-2")
    assert o1.winner == "coo"
