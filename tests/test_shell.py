"""`otp shell` driven by scripted input, as a newcomer would type it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

OTP = str(Path(sys.executable).with_name("otp"))


def test_shell_answers_lists_buttons_and_clicks_them(tmp_path):
    script = "/otp who-owns retention\n1\nhome\nas pulse\nkpi retention-saves 2 good week\n7\nquit\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OTP_"))}
    env["COLUMNS"] = "200"
    result = subprocess.run([OTP, "shell"], input=script, capture_output=True, text=True, env=env, cwd=tmp_path,
                            timeout=120)
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
