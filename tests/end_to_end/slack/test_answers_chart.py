"""`/otp chart` draws the tree: each seat's depth stays visible in Slack (which drops a
line's leading spaces) and in the terminal. Through `otp serve` and `otp ask`."""

from __future__ import annotations

from tests.support.cli import otp

EM = "\u2003"


def test_the_chart_in_slack_shows_who_reports_to_whom(server):
    _, payload = server.command("chart")
    lines = payload["text"].splitlines()
    assert lines[2:7] == [
        ":bust_in_silhouette: *CEO / Founder* (`ceo`): David (human)",
        "├─ :bust_in_silhouette: *COO* (`coo`): Bogdan (human)",
        f"│{EM}├─ :bust_in_silhouette: *Accounting* (`accounting`): Janine (human)",
        f"│{EM}├─ :bust_in_silhouette: *Creative Director* (`creative`): Kristen (human)",
        f"│{EM}├─ :robot_face: *Analytics / Ad Performance* (`analytics`): Dash (agent), accountable Bogdan",
    ]
    assert lines[7] == f"│{EM}│{EM}└─ :white_square: *Paid Social* (`paid-social`): planned, not yet filled"
    assert lines[-2:] == [
        "└─ :robot_face: *Sales Pipeline* (`sales`): Dirk (agent), accountable David",
        f"{EM}{EM}└─ :robot_face: *Cold Prospecting* (`prospecting`): Nick (agent), accountable David",
    ]
    # The blocks draw the same tree.
    sections = "\n".join(b["text"]["text"] for b in payload["blocks"] if b["type"] == "section")
    assert "\n".join(lines[2:]) in sections


def test_a_branch_starts_at_its_seat(example_db):
    result = otp(example_db, "ask", "chart sales")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[2:] == [
        "🤖 Sales Pipeline (sales): Dirk (agent), accountable David",
        "└─ 🤖 Cold Prospecting (prospecting): Nick (agent), accountable David",
    ]
