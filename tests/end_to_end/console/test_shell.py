"""`otp shell` as a newcomer uses it: scripted on stdin, and typed into a real terminal."""

from __future__ import annotations

import codecs
import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

OTP = str(Path(sys.executable).with_name("otp"))


def _env() -> dict[str, str]:
    # The shell must run on its own store and its own stand-in for Slack, whatever the
    # developer's environment says.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OTP_"))}
    env["COLUMNS"] = "200"
    return env


def test_shell_answers_lists_buttons_and_clicks_them(tmp_path):
    script = "/otp who-owns retention\n1\nhome\nas pulse\nkpi retention-saves 2 good week\n7\nquit\n"
    result = subprocess.run(
        [OTP, "shell"], input=script, capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=120
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

# CSI (colours, cursor moves), OSC (titles, links) and the two-byte escapes.
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


class Terminal:
    """A program on a pseudo-terminal: type into it, wait for text on its screen.

    Through a pty the program sees what a person's terminal gives it (isatty, echo, line
    editing, colours on), which a pipe does not. Every wait has a timeout and the whole
    session a deadline, so a hung program fails the test instead of hanging it.
    """

    def __init__(
        self,
        argv: list[str],
        *,
        cwd: Path,
        env: dict[str, str],
        deadline_s: float = 120.0,
        rows: int = 50,
        cols: int = 200,
    ) -> None:
        self.deadline = time.monotonic() + deadline_s
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        # Its own session, so the whole process group can be killed if the test fails.
        self.proc = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=cwd,
            env={**env, "TERM": "xterm-256color"},
            start_new_session=True,
        )
        os.close(slave)  # only the child holds it now: reading the master then ends (EIO) when it exits
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.raw = ""
        self.cursor = 0  # what `expect` has consumed, in `screen` coordinates
        self.closed = False

    @property
    def screen(self) -> str:
        """Everything shown so far, as plain text (escape codes removed, newlines normalised)."""
        return ANSI.sub("", self.raw).replace("\r\n", "\n").replace("\r", "")

    def _read(self, timeout: float) -> None:
        """Take what the program shows within `timeout`; notes when it has closed the terminal."""
        if self.closed or not select.select([self.master], [], [], max(0.0, timeout))[0]:
            return
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: every holder of the slave side has gone
            data = b""
        if data:
            self.raw += self.decoder.decode(data)
        else:
            self.closed = True

    def expect(self, *texts: str, timeout: float = 30.0) -> str:
        """Wait until each of `texts` has appeared after the cursor; return that part of the
        screen and move the cursor past it.

        In any order: what the bot sends after its acknowledgement (a shared message, the
        App Home) may print after the next prompt, as it would in a person's terminal.
        """
        until = min(time.monotonic() + timeout, self.deadline)
        while True:
            screen = self.screen
            ends = [screen.find(text, self.cursor) + len(text) for text in texts if text in screen[self.cursor :]]
            if len(ends) == len(texts):
                seen, self.cursor = screen[self.cursor : max(ends)], max(ends)
                return seen
            left = until - time.monotonic()
            if left <= 0 or self.closed:
                missing = [t for t in texts if t not in screen[self.cursor :]]
                raise AssertionError(
                    f"{missing} did not appear within {timeout:.0f}s "
                    f"({'the program exited' if self.closed else 'still running'}); "
                    f"the screen ends with:\n{screen[-3000:]}"
                )
            self._read(min(left, 0.5))

    def type(self, line: str) -> None:
        """Type a line and press Enter (a terminal sends CR; the line discipline makes it a newline).

        What was on the screen before is behind the cursor from now on: `expect` then looks
        at the answer to this line only.
        """
        self.cursor = len(self.screen)
        os.write(self.master, line.encode() + b"\r")

    def press(self, key: bytes) -> None:
        os.write(self.master, key)

    def wait(self, timeout: float = 30.0) -> int:
        """Wait for the program to exit, still draining its output (a full pty would block it)."""
        until = min(time.monotonic() + timeout, self.deadline)
        while self.proc.poll() is None and time.monotonic() < until:
            self._read(0.1)
        drained = time.monotonic() + 2.0  # the last lines, up to the terminal closing
        while not self.closed and time.monotonic() < drained:
            self._read(0.05)
        code = self.proc.poll()
        if code is None:
            raise AssertionError(f"still running after {timeout:.0f}s; the screen ends with:\n{self.screen[-3000:]}")
        return code

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)
        os.close(self.master)


def test_shell_in_a_terminal_answers_clicks_and_opens_home(tmp_path):
    term = Terminal([OTP, "shell"], cwd=tmp_path, env=_env())
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
    term = Terminal([OTP, "shell"], cwd=tmp_path, env=_env())
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
        [OTP, "shell"], input=script, capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=120
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "Pulse submitted draft #1 (pending)" in out and "posted in C0APPROVALS" in out
    assert "1  Approve" in out and "2  Edit & approve" in out and "3  Reject" in out
    assert "a modal opened" in out and "The text that goes out" in out
    assert "Approved with edits by Bogdan" in out and "posted in C0CLIENTACME" in out
    assert "Hi Jo, shall we talk this week?" in out.split("posted in C0CLIENTACME", 1)[1]
    assert "Traceback" not in out + result.stderr
