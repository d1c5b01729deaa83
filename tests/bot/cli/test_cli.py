"""The `otp` console script, run as a user runs it: a subprocess with OTP_DATABASE_URL."""

from __future__ import annotations

import json
import os

import pytest
import yaml

from otp_bot.store.db import Database
from tests.support.charts import chart, seat, write
from tests.support.cli import otp
from tests.support.paths import EXAMPLES


def test_ask_prints_the_answer(example_db):
    result = otp(example_db, "ask", "who-owns retention")
    assert result.returncode == 0, result.stderr
    assert "Client Retention" in result.stdout and "Pulse (agent)" in result.stdout and "Bogdan" in result.stdout


def test_ask_json_prints_the_slack_payload(example_db):
    result = otp(example_db, "ask", "--json", "seat retention")
    payload = json.loads(result.stdout)
    assert payload["response_type"] == "ephemeral" and payload["blocks"][0]["type"] == "header"


def test_ask_bad_input_exits_2_with_message_on_stderr(example_db):
    result = otp(example_db, "ask", "scorcard")
    assert result.returncode == 2 and "did you mean" in result.stderr.lower() and result.stdout == ""


def test_ask_as_unknown_holder_exits_2(example_db):
    result = otp(example_db, "ask", "--as", "nobody", "kpi retention-saves 1")
    assert result.returncode == 2 and "no holder `nobody`" in result.stderr


def test_chart_import_diff_idempotency_and_export_round_trip(db, tmp_path):
    path = write(tmp_path / "chart.yaml", chart())
    first = otp(db, "chart", "import", str(path))
    assert first.returncode == 0, first.stderr
    assert "+ seat retention added" in first.stdout and "chart changed (revision 1)" in first.stdout
    assert otp(db, "chart", "import", str(path)).stdout.strip() == "no changes"

    data = chart()
    seat(data, "retention")["holder"] = "dirk"
    changed = otp(db, "chart", "import", str(write(tmp_path / "chart2.yaml", data)))
    assert "~ seat retention: holder pulse → dirk" in changed.stdout

    exported = otp(db, "chart", "export")
    assert exported.returncode == 0 and yaml.safe_load(exported.stdout)["org"]["name"] == "Test Org"
    again = otp(db, "chart", "import", str(write(tmp_path / "exported.yaml", exported.stdout)))
    assert again.stdout.strip() == "no changes"


def test_reimport_of_the_same_file_is_answered_at_once_only_while_the_chart_is_unchanged(db, tmp_path):
    path = write(tmp_path / "chart.yaml", chart())
    assert otp(db, "chart", "import", str(path)).returncode == 0
    again = otp(db, "chart", "import", str(path))
    assert again.stdout.strip() == "no changes" and "the one last imported" in again.stderr

    # The chart changes outside the file: the same file is imported in full, and undoes it.
    assert otp(db, "seat", "vacate", "retention").returncode == 0
    restored = otp(db, "chart", "import", str(path))
    assert "~ seat retention: holder (none) → pulse" in restored.stdout, restored.stdout
    assert "the one last imported" not in restored.stderr

    # A different file is never taken for the last one, even with the chart unchanged.
    data = chart()
    seat(data, "retention")["holder"] = "dirk"
    assert "holder pulse → dirk" in otp(db, "chart", "import", str(write(tmp_path / "c2.yaml", data))).stdout
    back = otp(db, "chart", "import", str(path))
    assert "holder dirk → pulse" in back.stdout


def test_chart_import_dry_run(db, tmp_path):
    result = otp(db, "chart", "import", "--dry-run", str(write(tmp_path / "c.yaml", chart())))
    assert "chart would change" in result.stdout
    assert otp(db, "chart", "export").returncode == 2  # still no chart


def test_broken_chart_exits_2_listing_every_problem(db, tmp_path):
    data = chart()
    seat(data, "retention")["reports_to"] = "nobody"
    seat(data, "sales")["metrics"][0]["goal"] = "lots"
    result = otp(db, "chart", "import", str(write(tmp_path / "bad.yaml", data)))
    assert result.returncode == 2
    assert "seats[1].reports_to" in result.stderr and "seats[2].metrics[0].goal" in result.stderr
    assert "nothing was written" in result.stderr and "Traceback" not in result.stderr


def test_oos_import_from_one_command(db):
    result = otp(db, "chart", "import", str(EXAMPLES / "otp-platform.oos.md"))
    assert result.returncode == 0, result.stderr
    assert "note:" in result.stderr  # what could not be mapped is reported
    answer = otp(db, "ask", "who-owns retention")
    assert answer.returncode == 0 and "Pulse" in answer.stdout


def test_kpi_push_records_and_is_idempotent(example_db):
    first = otp(example_db, "kpi", "push", "retention-saves", "2", "--key", "k1", "--note", "two saves")
    assert first.returncode == 0 and "recorded 2" in first.stdout
    second = otp(example_db, "kpi", "push", "retention-saves", "2", "--key", "k1")
    assert second.returncode == 0 and "already recorded" in second.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("retention-saves", "lots"), "not a number"),
        (("nope", "1"), "no metric `nope`"),
        (("retention-saves", "1", "--period", "2026-W99"), "not a week"),
    ],
)
def test_kpi_push_bad_input_exits_2(example_db, args, words):
    result = otp(example_db, "kpi", "push", *args)
    assert result.returncode == 2 and words in result.stderr


def test_missing_command_arguments_exit_2(db):
    assert otp(db, "chart", "import").returncode == 2


def test_demo_loads_the_example_org_into_a_fresh_sqlite_file(tmp_path):
    result = otp(None, "demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "otp.db").exists()
    assert "Loaded the example org" in result.stderr and "Client Retention" in result.stdout
    again = otp(None, "demo", "chart", cwd=tmp_path)
    assert "Loaded" not in again.stderr and "Acme Agency" in again.stdout


def test_db_upgrade_and_current(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'fresh.db'}", auto_migrate=False)
    assert "at empty" in otp(db, "db", "current").stdout
    assert f"migrated empty → {db.head_revision()}" in otp(db, "db", "upgrade").stdout
    assert "already current" in otp(db, "db", "upgrade").stdout


def test_unmigrated_server_database_says_run_upgrade(tmp_path):
    pg = os.environ.get("OTP_TEST_DATABASE_URL")
    if not pg:
        pytest.skip("needs PostgreSQL: server databases are migrated on purpose, not automatically")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS otp_unmigrated"))
        conn.execute(text("CREATE DATABASE otp_unmigrated"))
    try:
        db = Database(
            make_url(pg).set(database="otp_unmigrated").render_as_string(hide_password=False), auto_migrate=False
        )
        result = otp(db, "ask", "help")
        assert result.returncode == 2 and "otp db upgrade" in result.stderr
        assert otp(db, "db", "upgrade").returncode == 0
        assert otp(db, "ask", "help").returncode == 0
        db.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS otp_unmigrated WITH (FORCE)"))
        admin.dispose()
