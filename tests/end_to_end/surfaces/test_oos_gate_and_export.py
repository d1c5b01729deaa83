"""OTP's own OOS shapes after `otp chart import`: what the gate then enforces, proved over the
real agent API; and back to OTP: import, export, import again is no changes."""

from __future__ import annotations

import json

import httpx
import pytest

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.agents.tokens import create_token
from tests.support.oos_import import CLAIMS, DENTAL, STARTER, chart_of, notes, otp
from tests.support.serve import Server

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
        "approvals[0]: its channel, user group, count, rounds or timings are not exported; OOS names only who approves"
        in said
    )
    assert "schedules not exported, OOS has none: briefing, scorecard" in said
    assert any(line.startswith("metrics not exported, OOS has no scorecard: mrr, ") for line in said)
    assert (
        otp(example_db, "chart", "export", "--format", "pdf").stderr.strip()
        == "error: unknown format 'pdf': use yaml or oos"
    )
