"""Fault: PostgreSQL restarts while people click Approve.

A private, throwaway PostgreSQL cluster (never the suite's shared server), `otp serve` on
it, 100 drafts waiting, and one Approve click per draft sent while the server is down for
about 4.5 seconds. Each click is acked at once; each draft ends decided exactly once; nobody
is told to try again; nothing is lost.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from otp_bot.bot.slack.views.approval_message import REJECT_VIEW
from otp_bot.store.db import Database
from otp_bot.store.domain.actors import actor_for_holder
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.sync.apply import apply_chart
from otp_bot.store.domain.gate import drafts
from otp_bot.store.models import Draft, DraftDecision
from tests.support.approvals import FAST, wait_until
from tests.support.serve import BOGDAN, Server, free_port
from tests.support.slack.signing import block_actions_body, view_submission_body

pytestmark = pytest.mark.fault

DRAFTS = 100
DOWN_SECONDS = 4.5


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    pg_ctl = found[-1] if found else shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


class Cluster:
    """A PostgreSQL cluster of this test's own, as scripts/postgres.sh starts one."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="otp-pg-fault."))
        self.port = free_port()
        self.root = os.geteuid() == 0  # PostgreSQL refuses to run as root: run it as `postgres`
        if self.root:
            shutil.chown(self.dir, "postgres")
        self._run("initdb", "-D", str(self.dir / "data"), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
        self.start()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self.root:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "log"), "-w", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster():
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL binaries (pg_ctl, initdb) are not installed")
    c = Cluster(bin_dir)
    yield c
    c.remove()


@pytest.fixture(scope="module")
def pg_db(cluster):
    db = Database(cluster.url, auto_migrate=False)
    db.upgrade()
    data = yaml.safe_load((resources.files("otp_bot.examples") / "acme-agency.yaml").read_text(encoding="utf-8"))
    with db.session() as s:
        apply_chart(s, validate_chart(data, "example"), actor="test", source="example")
    yield db
    db.dispose()


def _approval_messages(api, ids: set[int]) -> dict[int, dict]:
    found = {}
    for call in api.calls_to("chat.postMessage"):
        if not call.ok:
            continue
        for block in call.args.get("blocks") or []:
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if element.get("action_id") == "otp_draft_approve" and int(element["value"]) in ids:
                    found[int(element["value"])] = call.response
    return found


@pytest.fixture(scope="module")
def server(pg_db, api):
    srv = Server(pg_db, api, env=FAST)
    # The outage fills the log; read it as it comes, or the server would block on a full pipe.
    log: list[str] = []
    reader = threading.Thread(target=lambda: log.extend(srv.proc.stdout), daemon=True)
    reader.start()
    yield srv
    srv.proc.terminate()
    srv.proc.wait(timeout=10)
    reader.join(5)
    # The outbox worker logs its failed rounds; a person's click must never end in a traceback.
    assert not [line for line in log if "otp_bot.slack" in line and "ERROR" in line], log[-20:]


def test_clicks_during_a_postgresql_restart_each_decide_once_without_a_second_click(cluster, pg_db, api, server):
    with pg_db.session() as s:
        actor = actor_for_holder(s, "pulse")
        ids = [
            drafts.submit_draft(
                s,
                actor,
                seat_id="retention",
                kind="retention-outreach",
                subject=f"client:c{i}",
                title=f"Check in {i}",
                body=f"Hello client {i}",
            ).draft.id
            for i in range(DRAFTS)
        ]

    def all_posted() -> dict[int, dict] | None:
        found = _approval_messages(api, set(ids))
        return found if len(found) == DRAFTS else None

    messages = wait_until(all_posted, timeout=60, what="all approval messages posted")

    down, up = threading.Event(), threading.Event()
    window: dict[str, float] = {}

    def restart() -> None:
        time.sleep(0.3)  # the first clicks are being decided when the server goes down
        window["stopping"] = time.monotonic()
        cluster.stop("fast")
        window["down"] = time.monotonic()
        down.set()
        time.sleep(DOWN_SECONDS)
        cluster.start()
        window["up"] = time.monotonic()
        up.set()

    restarter = threading.Thread(target=restart)
    sent: list[tuple[float, float]] = []  # (when sent, how long the ack took)

    def click(draft_id: int) -> int:
        m = messages[draft_id]
        body = block_actions_body(
            BOGDAN,
            "otp_draft_approve",
            str(draft_id),
            channel_id=m["channel"],
            message_ts=m["ts"],
            response_url=api.response_url(),
            message=m["message"],
            block_id=f"otp_draft_{draft_id}",
        )
        started = time.monotonic()
        status, _, _ = server.send(body)
        sent.append((started, time.monotonic() - started))
        return status

    spacing = (DOWN_SECONDS - 0.5) / DRAFTS  # from just before the stop until just before the start
    with ThreadPoolExecutor(max_workers=20) as pool:
        futures = []
        restarter.start()
        for draft_id in ids:
            futures.append(pool.submit(click, draft_id))
            time.sleep(spacing)
        statuses = [f.result() for f in futures]
    last_click = time.monotonic()
    restarter.join(30)
    assert down.is_set() and up.is_set(), "PostgreSQL did not restart"
    assert last_click < window["up"], "the clicks were meant to land while PostgreSQL restarted"

    def all_decided() -> bool:
        with pg_db.session(readonly=True) as s:
            return (
                s.scalar(select(func.count()).select_from(Draft).where(Draft.id.in_(ids), Draft.status == "approved"))
                == DRAFTS
            )

    try:
        wait_until(all_decided, timeout=30, what="every draft decided")
    finally:
        with pg_db.session(readonly=True) as s:
            per_draft = dict(
                s.execute(
                    select(DraftDecision.draft_id, func.count())
                    .where(DraftDecision.draft_id.in_(ids))
                    .group_by(DraftDecision.draft_id)
                ).all()
            )
            status = dict(s.execute(select(Draft.id, Draft.status).where(Draft.id.in_(ids))).all())
        lost = [i for i in ids if per_draft.get(i, 0) == 0]
        doubled = [i for i in ids if per_draft.get(i, 0) > 1]
        during = [at for at, _ in sent if window.get("stopping", 0) <= at <= window.get("up", 0)]
        told_to_retry = [c for c in api.calls_to("response_url") if c.args.get("response_type") == "ephemeral"]
        print(
            f"\npg restart under clicks: attempts={len(ids)} acked={statuses.count(200)} "
            f"lost={len(lost)} duplicated={len(doubled)} told_to_retry={len(told_to_retry)} "
            f"slowest_ack={max(t for _, t in sent):.2f}s sent_while_restarting={len(during)}"
        )

    assert len(during) >= 0.9 * DRAFTS  # the clicks met the restart
    assert statuses == [200] * DRAFTS  # every click acked
    assert max(t for _, t in sent) < 3.0  # within Slack's budget, database down or not
    assert lost == [] and doubled == []  # each draft decided exactly once
    assert set(status.values()) == {"approved"}
    assert told_to_retry == [], [c.args.get("text") for c in told_to_retry][:3]  # no second click needed


def test_a_modal_submitted_while_postgresql_is_down_answers_in_time_and_shows_the_result(cluster, pg_db, api, server):
    with pg_db.session() as s:
        draft_id = drafts.submit_draft(
            s,
            actor_for_holder(s, "pulse"),
            seat_id="retention",
            kind="retention-outreach",
            subject="client:modal",
            title="Modal",
            body="Hello",
        ).draft.id
    m = wait_until(lambda: _approval_messages(api, {draft_id}).get(draft_id), timeout=20, what="the approval message")
    meta = json.dumps({"draft": draft_id, "channel": m["channel"], "ts": m["ts"]})
    cluster.stop("fast")
    restarter = threading.Timer(3.0, cluster.start)
    restarter.start()
    try:
        started = time.monotonic()
        status, _, body = server.send(
            view_submission_body(BOGDAN, REJECT_VIEW, {"reason": {"reason": "Too soon"}}, meta, view_id="V0OUTAGE")
        )
        answered = time.monotonic() - started
    finally:
        restarter.join(30)
    assert status == 200 and answered < 3.0  # Slack's view_submission budget
    answer = json.loads(body)
    assert answer["response_action"] == "update" and "Saving your decision" in json.dumps(answer["view"])
    result = wait_until(
        lambda: [
            c
            for c in api.calls_to("views.update")
            if c.args.get("view_id") == "V0OUTAGE" and "Recorded" in json.dumps(c.args["view"])
        ],
        timeout=15,
        what="the modal updated with the result",
    )
    assert f"draft #{draft_id} is rejected" in json.dumps(result[-1].args["view"])
    with pg_db.session(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(DraftDecision).where(DraftDecision.draft_id == draft_id)) == 1
        assert s.get(Draft, draft_id).reason == "Too soon"
