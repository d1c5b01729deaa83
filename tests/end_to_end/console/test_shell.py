"""`otp shell` as a newcomer uses it: scripted on stdin, and typed into a real terminal."""

from __future__ import annotations

import re
import subprocess

from tests.support.terminal import OTP, Terminal, shell_env


def test_shell_answers_lists_buttons_and_clicks_them(tmp_path):
    script = "/otp who-owns retention\n1\nhome\nas pulse\nkpi retention-saves 2 good week\n7\nquit\n"
    result = subprocess.run(
        [OTP, "shell"], input=script, capture_output=True, text=True, env=shell_env(), cwd=tmp_path, timeout=120
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "Loaded the example org" in result.stderr
    assert "only visible to you" in out and "Client Retention" in out and "Pulse (agent)" in out
    assert "1  Share in channel" in out
    assert "in the channel" in out  # the click on button 1 shared it
    assert "your App Home" in out and "metrics are off track" in out
    assert "You are Pulse" in out and "Recorded 2" in out
    assert "There is no button 7" in out
    assert "Traceback" not in out + result.stderr


# ---------------------------------------------------------------- in a real terminal


def test_shell_in_a_terminal_answers_clicks_and_opens_home(tmp_path):
    term = Terminal([OTP, "shell"], cwd=tmp_path, env=shell_env())
    try:
        term.expect("Loaded the example org", timeout=60)  # first start: creates and fills the store
        term.expect("You are David", "otp> ")

        term.type("/otp who-owns retention")
        answer = term.expect("Share in channel", "otp> ")
        assert "only visible to you" in answer
        assert "Client Retention" in answer and "Pulse (agent)" in answer
        assert "Reports to: COO (Bogdan)" in answer
        assert re.search(r"\b1 +Share in channel", answer)  # the button, numbered to be clicked

        term.type("1")
        shared = term.expect("in the channel", "Client Retention", "otp> ")
        assert "Share in channel" not in shared  # a shared answer has no Share button

        term.type("home")
        term.expect("your App Home", "metrics are off track", "otp> ")

        term.type("quit")
        assert term.wait() == 0
        assert "Traceback" not in term.screen
        assert "\x1b[" in term.raw  # it really believed it was on a terminal: it used colours
    finally:
        term.close()


def test_shell_in_a_terminal_leaves_on_ctrl_d(tmp_path):
    term = Terminal([OTP, "shell"], cwd=tmp_path, env=shell_env())
    try:
        term.expect("otp> ", timeout=60)
        term.type("help")
        term.expect("click button 1", "open your App Home", "otp> ")
        term.type("click 3")
        term.expect("There is no button 3; no buttons are shown now.", "otp> ")
        term.press(b"\x04")  # Ctrl-D on an empty line: end of input, as a person leaves a REPL
        assert term.wait() == 0
        assert "Traceback" not in term.screen
    finally:
        term.close()


def test_shell_shows_the_core_moment_an_agents_draft_approved_and_delivered(tmp_path):
    script = "draft\nas bogdan\n2\nsubmit Hi Jo, shall we talk this week?\nquit\n"
    result = subprocess.run(
        [OTP, "shell"], input=script, capture_output=True, text=True, env=shell_env(), cwd=tmp_path, timeout=120
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "Pulse submitted draft #1 (pending)" in out and "posted in C0APPROVALS" in out
    assert "1  Approve" in out and "2  Edit & approve" in out and "3  Request changes" in out and "4  Reject" in out
    assert "a modal opened" in out and "The text that goes out" in out
    assert "Approved with edits by Bogdan" in out and "posted in C0CLIENTACME" in out
    assert "Hi Jo, shall we talk this week?" in out.split("posted in C0CLIENTACME", 1)[1]
    assert "Traceback" not in out + result.stderr
