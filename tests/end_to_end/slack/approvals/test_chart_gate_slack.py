"""The chart governs what is pending, end to end: `otp chart import` in one process while
`otp serve` runs in another; the approval messages change in Slack and clicks are refused
(or counted where the draft went), answered through the real app over signed HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import time
from importlib import resources
from pathlib import Path

import yaml

from tests.support.approvals import all_actions, click, draft_row, ephemeral, posted, submit, updates, wait_until
from tests.support.serve import BOGDAN, OTP


def example() -> dict:
    return yaml.safe_load((resources.files("otp_bot.examples") / "acme-agency.yaml").read_text(encoding="utf-8"))


def seat_of(data: dict, seat_id: str) -> dict:
    return next(s for s in data["seats"] if s["id"] == seat_id)


def chart_import(db, data: dict, path: Path) -> str:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    done = subprocess.run(
        [OTP, "chart", "import", str(path)],
        env={**os.environ, "OTP_DATABASE_URL": db.url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_route_moved_by_an_import_moves_the_pending_draft_to_its_new_channel(server, module_db, api, tmp_path):
    draft_id = submit(module_db, seat="sales", holder="dirk", kind="proposal", subject="client:zeta")
    old = posted(api, draft_id, channel="C0APPROVALS")
    data = example()
    data["approvals"][0]["seats"].remove("sales")
    data["approvals"].append({"seats": ["sales"], "channel": "C0SALESDESK", "approvers": ["bogdan"]})
    out = chart_import(module_db, data, tmp_path / "chart.yaml")
    assert "~ approvals: sales removed from route 1; route 4 added (seats sales, in channel C0SALESDESK" in out
    assert f"draft #{draft_id} rerouted: moved to channel C0SALESDESK" in out

    new = posted(api, draft_id, channel="C0SALESDESK")
    moved = wait_until(
        lambda: [u for u in updates(api, old) if "Moved" in json.dumps(u.args["blocks"])],
        what="the old message saying where the draft went",
    )[-1]
    assert all_actions(moved.args["blocks"]) == [] and "&lt;#C0SALESDESK&gt;" not in json.dumps(moved.args["blocks"])
    assert "<#C0SALESDESK>" in json.dumps(moved.args["blocks"])

    click(server, BOGDAN, "otp_draft_approve", draft_id, old)
    assert f"draft #{draft_id} moved to channel C0SALESDESK" in ephemeral(api)
    assert draft_row(module_db, draft_id).status == "pending"
    click(server, BOGDAN, "otp_draft_approve", draft_id, new)
    wait_until(lambda: draft_row(module_db, draft_id).status == "approved", what="the approval from the new message")


def test_a_seat_retired_by_an_import_withdraws_its_draft_and_the_click_is_refused(server, module_db, api, tmp_path):
    draft_id = submit(module_db, destination="C0CLIENTACME")
    message = posted(api, draft_id, channel="C0APPROVALS")
    data = example()
    retention = seat_of(data, "retention")
    retention.pop("holder")
    retention["status"] = "retired"
    out = chart_import(module_db, data, tmp_path / "chart.yaml")
    assert f"draft #{draft_id} withdrawn: seat `retention` was retired" in out

    update = wait_until(
        lambda: [u for u in updates(api, message) if "Withdrawn" in json.dumps(u.args["blocks"])],
        what="the approval message saying the draft was withdrawn",
    )[-1]
    shown = json.dumps(update.args["blocks"])
    assert "seat `retention` was retired" in shown and all_actions(update.args["blocks"]) == []
    notice = wait_until(
        lambda: [c for c in api.calls_to("chat.postMessage") if c.ok and "was withdrawn" in (c.args.get("text") or "")],
        what="Bogdan told",
    )
    assert "seat `retention` was retired" in notice[-1].args["text"]

    click(server, BOGDAN, "otp_draft_approve", draft_id, message)
    reply = ephemeral(api)
    assert "already withdrawn" in reply and "seat `retention` was retired" in reply
    time.sleep(0.5)  # a delivery, if one were queued, would be on its way by now
    row = draft_row(module_db, draft_id)
    assert row.status == "withdrawn" and not row.decisions and row.delivery == "none"
    assert not [c for c in api.calls_to("chat.postMessage") if c.response.get("channel") == "C0CLIENTACME"]
