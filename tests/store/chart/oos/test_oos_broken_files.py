"""The OOS importer on broken files: each problem named where it is, all of them at once."""

from __future__ import annotations

import pytest

from otp_bot.store.domain.chart.chartfile.errors import ChartErrors
from otp_bot.store.domain.chart.oos import convert_oos_file, convert_oos_text
from tests.support.oos import EXAMPLES, agent, convert, doc, holder, problems

# -- broken files ----------------------------------------------------------------------


def test_bad_json_names_line_and_column():
    [(loc, msg)] = problems('{"organization": "Acme",\n "entities": }')
    assert loc == "line 2, column 14" and msg.startswith("not valid JSON")


def test_duplicate_json_key():
    [(_, msg)] = problems('{"organization": "A", "organization": "B", "entities": {}}')
    assert "duplicate key 'organization'" in msg


def test_markdown_without_front_matter():
    with pytest.raises(ChartErrors) as info:
        convert_oos_text("# Sneeze It\n\nJust prose.\n", "x.oos.md")
    assert "front matter" in info.value.problems[0][1]


def test_unclosed_front_matter_and_bad_yaml():
    with pytest.raises(ChartErrors) as info:
        convert_oos_text("---\norganization: A\n", "x.oos.md")
    assert info.value.problems == [("line 1", "the front matter is not closed: end it with a `---` line")]
    with pytest.raises(ChartErrors) as info:
        convert_oos_text("\n---\norganization: A\nentities: [\n---\n", "x.oos.md")
    assert info.value.problems[0][0].startswith("line 4,")  # the file's line, not the front matter's


def test_missing_entities():
    [(loc, msg)] = problems({"organization": "Acme", "agents": []})
    assert (loc, msg) == ("entities", "missing: agents belong under `entities`")
    assert problems({"organization": "Acme", "entities": {}}) == [
        ("entities", "no agents and no humans: nothing to put on the chart")
    ]


def test_missing_org_and_required_fields():
    data = doc([{"id": "AGT-001", "role": "Support", "escalates_to": "HMN-001", "owns": "everything"}])
    del data["organization"]
    found = dict(problems(data))
    assert found["frontmatter.org_pseudonym"].startswith("missing: name the organization")
    assert found["entities.agents[0].owns"] == "expected a list, got str"
    del data["entities"]["agents"][0]["owns"]
    data["organization"] = "Acme"
    chart, report = convert(data)  # no name: the role names the holder, and the import says so
    assert holder(chart, "support").name == "Support"
    assert "entities.agents[0]: no `name`; the holder is named after the role, 'Support'" in report


def test_unknown_escalates_to_id():
    assert problems(doc([agent(1, "Ava", "Support"), agent(2, "Bea", "Sales", escalates_to="HMN-999")])) == [
        ("entities.agents[1].escalates_to", "unknown id 'HMN-999': name an agent or human id from this file")
    ]


def test_agent_with_no_human_in_its_chain():
    found = problems(
        doc([agent(1, "Ava", "Support", escalates_to="AGT-002"), {"id": "AGT-002", "name": "Bea", "role": "Sales"}])
    )
    assert [loc for loc, _ in found] == ["entities.agents[0].escalates_to", "entities.agents[1].escalates_to"]
    assert "no human in the escalation chain Ava -> Bea" in found[0][1]


def test_escalation_loop():
    found = problems(
        doc([agent(1, "Ava", "Support", escalates_to="AGT-002"), agent(2, "Bea", "Sales", escalates_to="AGT-001")])
    )
    assert found[0] == ("entities.agents[0].escalates_to", "escalations go round in a loop: Ava -> Bea -> Ava")
    assert len(found) == 2


def test_duplicate_ids_and_bad_status_all_at_once():
    found = problems(
        doc(
            [agent(1, "Ava", "Support", status="paused"), agent(1, "Bea", "Sales")],
            [{"id": "HMN-001", "name": "Bo", "role": "COO"}, {"id": "agt-001", "name": "Cy", "role": "CEO"}],
        )
    )
    assert ("entities.agents[1].id", "duplicate id 'AGT-001' (also entities.agents[0].id)") in found
    assert ("entities.humans[1].id", "duplicate id 'agt-001' (also entities.agents[0].id)") in found
    assert ("entities.agents[0].status", "'paused': use active, planned or deprecated") in found


def test_chart_problems_point_back_at_the_oos_fields():
    data = doc(
        [
            agent(1, "Ava", "Support", owns=["Inbox triage"]),
            agent(2, "Bea", "Sales", owns=["Pipeline", "inbox  triage!"]),
        ]
    )
    [(loc, msg)] = problems(data)
    assert loc == "entities.agents[1].owns[1]" and "already owned by seat 'support'" in msg
    [(loc, msg)] = problems(doc(timezone="Mars/Olympus"))
    assert loc == "timezone" and "unknown timezone" in msg
    found = problems(doc([], [{"id": "HMN-001", "role": "x" * 201}]))  # the role names holder and seat
    assert [loc for loc, _ in found] == ["entities.humans[0].role", "entities.humans[0].role"]


def test_human_reporting_loop_is_located_at_receives_escalations_from():
    humans = [
        {"id": "H1", "name": "Bo", "role": "COO", "receives_escalations_from": ["H2"]},
        {"id": "H2", "name": "Di", "role": "CEO", "receives_escalations_from": ["H1"]},
    ]
    [(loc, msg)] = problems(doc([], humans))
    # Bo's seat reports to Di's because Di's list names Bo: that entry is where to fix it.
    assert loc == "entities.humans[1].receives_escalations_from[0]" and "loop" in msg


def test_missing_file():
    with pytest.raises(ChartErrors) as info:
        convert_oos_file(EXAMPLES / "nope.oos.md")
    assert info.value.problems == [("", "no such file")]
