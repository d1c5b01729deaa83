"""`otp shell` as a newcomer meets it: its environment cut off from the developer's, and a
real pseudo-terminal to type into and read the screen from."""

from __future__ import annotations

import codecs
import contextlib
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


def shell_env() -> dict[str, str]:
    # The shell must run on its own store and its own stand-in for Slack, whatever the
    # developer's environment says.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OTP_"))}
    env["COLUMNS"] = "200"
    return env


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
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        os.close(self.master)
