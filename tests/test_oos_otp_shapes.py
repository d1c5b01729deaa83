"""OTP's own OOS shapes, imported through `otp chart import`: the full JSON, `.oos.md` claims
files and the starter YAML (fixtures of our own, in tests/oos_fixtures, written in OTP's
shapes), with what the gate then enforces, proved over the real agent API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.agents.tokens import create_token
from otp_bot.store.domain.chart.sync.export import export_chart
from otp_bot.store.models import Org, Rule

from .serve import Server

OTP = str(Path(sys.executable).with_name("otp"))
FIXTURES = Path(__file__).resolve().parent / "oos_fixtures"
DENTAL, CLAIMS, STARTER = (
    FIXTURES / "dental-group.oos.json",
    FIXTURES / "dental-claims.oos.md",
    FIXTURES / "bakery-starter.yaml",
)


def otp(db, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "400", "OTP_DATABASE_URL": db.url}
    return subprocess.run([OTP, *args], capture_output=True, text=True, env=env, timeout=120)


def notes(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line.removeprefix("note: ") for line in result.stderr.splitlines() if line.startswith("note: ")]


def chart_of(db):
    with db.session(readonly=True) as s:
        return export_chart(s)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ the full JSON


def test_json_dry_run_lists_the_changes_and_the_notes_and_writes_nothing(db):
    result = otp(db, "chart", "import", "--dry-run", str(DENTAL))
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    for line in (
        "+ org Brightsmile Dental Group added",
        "+ holder practice-owner added",
        "+ seat patient-retention added",
        "+ policy cft-001 added",
        "+ rule C004 added",
        "31 changes: chart would change",
    ):
        assert line in out
    said = notes(result)
    for line in (
        "entities.humans[0]: no `name`; the holder is named after the role, 'Practice Owner'",
        "marketing_plan: unknown key; not imported: 'spring whitening push'",
        "entities.agents[7].mood: unknown key; not imported: 'retired early'",
        "entities.agents[].inputs: not kept, the chart has no place for it (8 agents)",
        "entities.agents[5]: no `escalates_to`; escalates to Ops Orchestrator, escalation level 1",
        "entities.workflows[0]: WFL-001 'Lapsed patient recall' not kept: the chart has no workflows",
        "entities.conflict_protocols[0]: policy 'cft-001' holds `expansion` drafts about a subject flagged `at-risk` "
        "by 'patient-retention' (read from 'at-risk' in `detection`; check it)",
        "entities.conflict_protocols[1].winner: 'depends on the day' names no agent or human of this file; ignored",
        "claims[1].owner_note: unknown key; kept with the rule: 'Ana agrees'",
        "claims' related_entities that are no agent or human (kept with the rule): C001: SYS-001; C002: CFT-001",
    ):
        assert line in said, line
    with db.session(readonly=True) as s:
        assert s.get(Org, 1) is None


def test_json_entities_become_seats_lines_authority_routes_policies_and_rules(db):
    result = otp(db, "chart", "import", str(DENTAL))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "31 changes: chart changed (revision 1)"
    chart = chart_of(db)
    seats = {s.id: s for s in chart.seats}
    holders = {h.id: h for h in chart.holders}
    assert holders["practice-owner"].name == "Practice Owner" and holders["practice-owner"].slack_user == "U0OWNER01"
    # reports_to, escalates_to (to an agent, then up to a human), receives_escalations_from, the hierarchy
    assert seats["office-manager"].reports_to == "practice-owner"
    assert seats["front-desk"].reports_to == "office-manager"
    assert seats["billing-analytics"].reports_to == "operations-orchestration"
    assert holders["books-watcher"].supervisor == "practice-owner"
    assert seats["online-reviews"].reports_to == "operations-orchestration"
    assert seats["clinical-director"].reports_to is None
    assert {sid: s.authority for sid, s in seats.items() if s.authority} == {
        "front-desk": "execute-with-approval",
        "patient-retention": "recommend",
        "treatment-sales": "execute-with-approval",
        "billing-analytics": "view-only",
        "operations-orchestration": "autonomous",
        "online-reviews": "advisory",
        "supplies-ordering": "supervised",
        "insurance-checks": "semi_autonomous",
    }
    assert (seats["supplies-ordering"].status, seats["insurance-checks"].status) == ("planned", "retired")
    assert [(a.seats, a.kinds, a.approvers) for a in chart.approvals] == [
        (["treatment-sales", "operations-orchestration"], ["refund-offers"], ["practice-owner"]),
        (["front-desk", "patient-retention", "supplies-ordering"], ["patient-messages"], ["office-manager"]),
        (["treatment-sales"], [], ["practice-owner"]),
    ]
    cft = chart.policies[0]
    assert (cft.name, cft.winner, cft.hold_kind, cft.while_flag) == (
        "cft-001",
        "patient-retention",
        "expansion",
        "at-risk",
    )
    assert cft.description == "AGT-002 wins. Keeping the patient comes before selling more treatment."
    assert (
        chart.policies[2].description
        == "Practice Owner may override every seat when Any time (scope: Every agent action)"
    )
    rule = chart.rules[0]
    assert (rule.id, rule.section, rule.confidence, rule.confidence_score, rule.evidence) == (
        "C001",
        "core_operating_rules",
        "HIGH",
        0.9,
        "OBSERVED_REPEATEDLY",
    )
    assert rule.failure_mode == "A patient arrives on the wrong day and the chair sits empty."
    assert rule.seats == ["front-desk", "office-manager"]
    assert chart.rules[1].extra == {"owner_note": "Ana agrees", "related_entities": ["CFT-001"]}
    assert (cft.extra["parties"], cft.extra["winner"]) == (
        ["treatment-sales", "patient-retention"],
        "patient-retention",
    )
    assert otp(db, "chart", "import", str(DENTAL)).stdout == "no changes\n"


# ------------------------------------------------------------------ .oos.md claims


def test_a_claims_only_file_merges_its_claims_and_touches_no_seat(db):
    otp(db, "chart", "import", str(DENTAL))
    before = chart_of(db)
    result = otp(db, "chart", "import", str(CLAIMS))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "~ rule C001: rule, why, failure mode, confidence score, evidence, evidence reference, scope, seats, extra changed",
        "~ rule C002: section, rule, why, failure mode, confidence, evidence, scope, seats, extra changed",
        "+ rule C005 added",
        "+ rule C006 added",
        "4 changes: chart changed (revision 2)",
    ]
    assert notes(result)[1:] == [
        "line 44: claim C002: `Owner` is not a claim field; kept with the rule",
        "line 53: claim C005: a line that is no `- **Field:** text` line; not kept: 'a stray line the parser does not know'",
        "rules this file does not mention are kept: C003, C004 (a whole chart file or OOS file with entities replaces them)",
    ]
    after = chart_of(db)
    assert after.model_dump(exclude={"rules"}) == before.model_dump(exclude={"rules"})
    rules = {r.id: r for r in after.rules}
    assert list(rules) == ["C001", "C002", "C003", "C004", "C005", "C006"]
    c2 = rules["C002"]  # `* **Rule**:` bullets, a continued line, lower-case confidence, an unknown field
    assert (c2.section, c2.confidence, c2.evidence) == ("patient_intake", "MEDIUM", "INFERENCE")
    assert c2.rule == "The Front desk never gives clinical advice on the phone; it books an assessment instead."
    assert c2.failure_mode == "A caller acts on a guess and complains."
    assert c2.extra == {"Owner": "the Office Manager"}
    assert c2.seats == ["front-desk"]  # named in its text
    assert rules["C001"].seats == ["patient-retention"]
    assert (rules["C005"].section, rules["C005"].failure_mode) == ("sterilisation", "A tray goes out unsterilised.")
    assert (rules["C006"].why, rules["C006"].confidence) == (None, "LOW")
    assert otp(db, "chart", "import", str(CLAIMS)).stdout == "no changes\n"


def test_a_claims_only_file_needs_a_chart_first(db):
    result = otp(db, "chart", "import", str(CLAIMS))
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        f"{CLAIMS}: this file has claims but no entities, so it can only add rules to a chart: import a chart first "
        "(`otp chart import chart.yaml`)"
    )


def test_broken_markdown_claims_are_refused_with_their_lines(db, tmp_path):
    path = write(
        tmp_path,
        "x.oos.md",
        """---
org_pseudonym: Hale & Ortiz Legal
---

**[C001]** intake
- **Rule:** Book a consultation.
- **Rule:** Or not.
- **Confidence:** SURE

**[C002]** billing
- **Why:** A rule was forgotten here.

**[C001]** again
- **Rule:** Duplicate.
""",
    )
    otp(db, "chart", "import", str(DENTAL))
    result = otp(db, "chart", "import", str(path))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{path} was not imported (4 problems; nothing was written):",
        f"{path}: line 7: claim C001 has a second `Rule`",
        f"{path}: line 5: claim C001: 'SURE': use HIGH, MEDIUM or LOW",
        f"{path}: line 10: claim C002 has no rule (a `Rule:` line)",
        f"{path}: line 13: duplicate claim id 'C001' (also line 5)",
    ]
    assert [r.id for r in chart_of(db).rules] == ["C001", "C002", "C003", "C004"]


# ------------------------------------------------------------------ the starter YAML


def test_the_starter_yaml_imports(db):
    result = otp(db, "chart", "import", str(STARTER))
    assert result.returncode == 0, result.stderr
    said = notes(result)
    assert "organization.slug: not kept (the chart has no place for it): 'crumb-co'" in said
    assert "claims: the claims have no ids; numbered in file order C001..C002" in said
    assert (
        "entities.humans[1].authority_level: 'execute-with-approval' not kept: people decide drafts, the gate does "
        "not hold them back"
    ) in said
    chart = chart_of(db)
    seats = {s.id: s for s in chart.seats}
    holders = {h.id: h for h in chart.holders}
    assert chart.org.name == "Crumb & Co"
    assert holders["rosa-crumb"].email == "rosa@crumb.example"
    assert seats["shift-lead"].reports_to == "owner"
    assert (seats["wholesale-orders"].reports_to, holders["dough"].supervisor) == ("shift-lead", "theo-lind")
    assert (seats["wholesale-orders"].authority, seats["stock-counts"].authority) == ("recommend", "view-only")
    assert seats["wholesale-orders"].customer_facing is True
    assert [(r.id, r.section, r.evidence, r.seats) for r in chart.rules] == [
        ("C001", "core_operating_rules", "DESIGNED", ["shift-lead"]),
        ("C002", "failure_patterns", "OBSERVED_REPEATEDLY", []),
    ]


# ------------------------------------------------------------------ bad input


def test_a_malformed_file_is_refused_whole_with_every_problem(db, tmp_path):
    data = json.loads(DENTAL.read_text())
    data["entities"]["agents"][0]["owns"] = "Appointment confirmations"
    data["entities"]["agents"][1]["escalates_to"] = "HMN-404"
    data["entities"]["escalation_hierarchy"]["levels"][0]["handler"] = "AGT-999"
    data["entities"]["workflows"] = {"id": "WFL-001"}
    data["claims"][0]["confidence"] = "SURE"
    del data["claims"][2]["rule"]
    data["claims"][3]["claim_id"] = "C001"
    path = write(tmp_path, "broken.oos.json", json.dumps(data))
    result = otp(db, "chart", "import", str(path))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{path} was not imported (7 problems; nothing was written):",
        f"{path}: entities.agents[0].owns: expected a list, got str",
        f"{path}: entities.escalation_hierarchy.levels[0].handler: unknown id 'AGT-999'",
        f"{path}: entities.workflows: expected a list, got dict",
        f"{path}: entities.agents[1].escalates_to: unknown id 'HMN-404': name an agent or human id from this file",
        f"{path}: claims[0].confidence: 'SURE': use HIGH, MEDIUM or LOW",
        f"{path}: claims[2].rule: claim C003 has no rule",
        f"{path}: claims[3]: duplicate claim id 'C001' (also claims[0])",
    ]
    with db.session(readonly=True) as s:
        assert s.get(Org, 1) is None and s.scalar(select(func.count()).select_from(Rule)) == 0


# ------------------------------------------------------------------ the gate, over the real API


def test_cft_001_holds_an_expansion_draft_and_authority_levels_hold_over_the_api(db, api):
    assert otp(db, "chart", "import", str(DENTAL)).returncode == 0
    op = Actor.cli_operator("tests")
    with db.session() as s:
        secret = {
            who: create_token(s, op, holder_id=who).secret
            for who in ("recall-guardian", "treatment-planner", "books-watcher", "review-scout", "molly")
        }
    server = Server(db, api, env={"OTP_POLL_SECONDS": "0.2", "OTP_SWEEP_SECONDS": "3600"})
    try:

        def agent(who: str) -> httpx.Client:
            return httpx.Client(
                base_url=f"{server.url}/api/v1", headers={"Authorization": f"Bearer {secret[who]}"}, timeout=60
            )

        flagged = agent("recall-guardian").post(
            "/flags", json={"subject": "patient:p-1042", "flag": "at-risk", "reason": "missed two recalls"}
        )
        assert flagged.status_code == 201, flagged.text
        upsell = {
            "seat": "treatment-sales",
            "kind": "expansion",
            "subject": "patient:p-1042",
            "title": "Whitening offer",
            "body": "Hi, would you like our whitening package?",
        }
        held = agent("treatment-planner").post("/drafts", json=upsell)
        assert held.status_code == 201, held.text
        assert held.json()["status"] == "held"
        assert held.json()["hold_reason"] == (
            "patient:p-1042 is flagged at-risk by Patient retention (Recall Guardian): "
            "missed two recalls; policy cft-001: patient-retention wins over expansion"
        )
        other = agent("treatment-planner").post("/drafts", json={**upsell, "subject": "patient:p-2000"})
        assert other.json()["status"] == "pending"  # no flag on that patient: it waits for the Practice Owner
        assert other.json()["outcome"] == "waiting for a decision by Practice Owner"
        reply = agent("molly").post(
            "/drafts",
            json={
                "seat": "front-desk",
                "kind": "patient-messages",
                "subject": "patient:p-1042",
                "title": "Your visit",
                "body": "See you Tuesday at 9.",
            },
        )
        assert reply.json()["outcome"] == "waiting for a decision by Office Manager"  # execute-with-approval
        for who, seat, level in (
            ("books-watcher", "billing-analytics", "view-only"),
            ("review-scout", "online-reviews", "advisory"),
        ):
            refused = agent(who).post("/drafts", json={**upsell, "seat": seat})
            assert refused.status_code == 403
            assert refused.json()["detail"] == f"seat `{seat}` is {level}: it reads and reports, it does not draft"
    finally:
        output = server.stop()
    assert "Traceback" not in output, output


# ------------------------------------------------------------------ back to OTP


@pytest.mark.parametrize("files", [(DENTAL, CLAIMS), (STARTER,)])
def test_import_export_import_again_is_no_changes(db, tmp_path, files):
    for path in files:
        assert otp(db, "chart", "import", str(path)).returncode == 0
    before = chart_of(db)
    out = tmp_path / "back.oos.json"
    exported = otp(db, "chart", "export", "--format", "oos", "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    document = json.loads(out.read_text())
    assert document["frontmatter"]["org_pseudonym"] == before.org.name
    again = otp(db, "chart", "import", str(out))
    assert again.returncode == 0, again.stderr
    assert again.stdout == "no changes\n"
    assert chart_of(db) == before


def test_the_export_is_otp_json_with_fresh_ids(db, tmp_path):
    for path in (DENTAL, CLAIMS):
        otp(db, "chart", "import", str(path))
    out = tmp_path / "back.oos.json"
    otp(db, "chart", "export", "--format", "oos", "-o", str(out))
    document = json.loads(out.read_text())
    humans, agents = document["entities"]["humans"], document["entities"]["agents"]
    assert [h["id"] for h in humans] == ["HMN-001", "HMN-002", "HMN-003"]
    assert humans[1] == {
        "id": "HMN-002",
        "name": "Office Manager",
        "role": "Office Manager",
        "reports_to": "HMN-001",
        "approves": ["patient-messages"],
        "slack_user": "U0OFFICE1",
    }
    retired = agents[-1]  # imported deprecated: its seat retired, its holder kept
    assert (retired["name"], retired["role"], retired["status"]) == ("Claims Checker", "Insurance checks", "deprecated")
    cft = document["entities"]["conflict_protocols"][0]
    by_id = {a["id"]: a["name"] for a in agents}
    assert (cft["id"], by_id[cft["winner"]], [by_id[p] for p in cft["parties"]]) == (
        "CFT-001",
        "Recall Guardian",
        ["Treatment Planner", "Recall Guardian"],
    )
    assert document["claims"][1] == {
        "claim_id": "C002",
        "section": "patient_intake",
        "rule": "The Front desk never gives clinical advice on the phone; it books an assessment instead.",
        "why": "Advice without an exam is a liability.",
        "failure_mode": "A caller acts on a guess and complains.",
        "confidence": "MEDIUM",
        "evidence": "INFERENCE",
        "scope": "All inbound calls.",
        "related_entities": ["AGT-001"],
        "Owner": "the Office Manager",
    }


def test_exporting_a_chart_file_notes_what_oos_cannot_say(example_db, tmp_path):
    out = tmp_path / "acme.oos.json"
    result = otp(example_db, "chart", "export", "--format", "oos", "-o", str(out))
    assert result.returncode == 0, result.stderr
    said = notes(result)
    assert "seat onboarding: not exported, OOS has no vacant seats" in said
    assert (
        "approvals[0]: its channel, user group, count or timings are not exported; OOS names only who approves" in said
    )
    assert "schedules not exported, OOS has none: briefing, scorecard" in said
    assert any(line.startswith("metrics not exported, OOS has no scorecard: mrr, ") for line in said)
    assert (
        otp(example_db, "chart", "export", "--format", "pdf").stderr.strip()
        == "error: unknown format 'pdf': use yaml or oos"
    )
