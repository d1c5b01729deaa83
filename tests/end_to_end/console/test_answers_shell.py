"""`otp shell` lets a newcomer finish what it starts: every field of a form set by name,
several lines of text, an earlier message's buttons, and a prompt with line editing."""

from __future__ import annotations

import subprocess

from tests.support.terminal import OTP, Terminal, shell_env


def shell(tmp_path, script: str) -> str:
    result = subprocess.run(
        [OTP, "shell"], input=script, capture_output=True, text=True, env=shell_env(), cwd=tmp_path, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return result.stdout


def test_the_retire_hearing_form_is_filled_in_field_by_field_and_recorded(tmp_path):
    out = shell(
        tmp_path,
        "as bogdan\n/otp retire kpi\n"
        "set reason Pushes stopped\n"
        "set findings <<\nThree late pushes\nOne wrong value\n.\n"
        "set recommendation Retire it\nset decision maybe\nset decision Retire the seat\n"
        "fields\nset 5 analytics\nset 6 analytics\nset 7 -\nsubmit\nquit\n",
    )
    assert "Decision (type set decision retire|keep)" in out
    assert "`decision` is a choice: one of retire, keep" in out
    assert " 2 findings Findings: Three late pushes ⏎ One wrong value" in out
    assert " 4 decision Decision: retire" in out
    assert "── the modal now shows ──\n🗄 Seat KPI Tracking (kpi) is retired (hearing #1)." in out
    assert "• kpi collection → Analytics / Ad Performance (analytics)" in out
    assert "• Report metrics that have gone without a fresh value → dropped" in out


def test_a_field_left_empty_keeps_the_form_open_with_what_was_typed(tmp_path):
    out = shell(tmp_path, "as bogdan\n/otp retire kpi\nset reason Pushes stopped\nsubmit\nfields\nquit\n")
    assert "findings: say what the hearing found" in out
    assert " 1 reason Why is this hearing held?: Pushes stopped" in out


def test_edit_and_approve_takes_several_lines(tmp_path):
    out = shell(tmp_path, "draft\nas bogdan\n2\nsubmit <<\nHi Jo,\n\nShall we talk this week?\n.\nquit\n")
    assert "Approved with edits by Bogdan" in out
    delivered = out.split("posted in C0CLIENTACME", 1)[1]
    assert "Hi Jo,\n\nShall we talk this week?" in delivered


def test_buttons_lists_earlier_messages_buttons_to_click_again(tmp_path):
    out = shell(tmp_path, "draft\nas bogdan\n/otp who-owns retention\n1\nbuttons\n1\nquit\n")
    listed = out.split("otp> posted in C0APPROVALS: Draft #1 for approval: retention-outreach\n", 1)[1]
    assert listed.splitlines()[:3] == [
        "   1  Approve    2  Edit & approve    3  Request changes    4  Reject",
        "only visible to you: Client Retention (retention)",
        "   5  Share in channel",
    ]
    assert "── updated a message in C0APPROVALS ──" in listed and "✅ Approved by Bogdan" in listed


def test_the_prompt_keeps_a_history(tmp_path):
    term = Terminal([OTP, "shell"], cwd=tmp_path, env=shell_env())
    try:
        term.expect("otp> ", timeout=60)
        term.type("as pulse")
        term.expect("You are Pulse", "otp> ")
        term.type("whoami")
        term.expect("You are Pulse", "otp> ")
        term.cursor = len(term.screen)
        term.press(b"\x1b[A\x1b[A\r")  # up twice, Enter: `as pulse` again
        term.expect("You are Pulse", "otp> ")
        term.cursor = len(term.screen)
        term.press(b"as bogdn\x1b[Da\r")  # a typo mended with the arrow key: `as bogdan`
        term.expect("You are Bogdan", "otp> ")
        term.type("quit")
        assert term.wait() == 0
    finally:
        term.close()


def test_the_chart_picture_is_written_where_the_console_runs(tmp_path):
    out = shell(tmp_path, "/otp chart sales --image\nquit\n")
    assert "── a file uploaded to D" in out
    assert "Acme Agency: org chart below Sales Pipeline: written to chart-sales.png" in out
    assert "The org chart is in your messages with me." in out
    assert (tmp_path / "chart-sales.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
