"""A broken chart file is reported whole, in one pass, with what to write instead: run as
a user runs `otp chart import`."""

from __future__ import annotations

import textwrap

from tests.support.cli import otp

BROKEN = textwrap.dedent("""\
    org: {name: Broken Co, timezone: Europe/Berlin}
    holders:
      - {id: ann, name: Ann, kind: human}
      - {id: bot, name: Bot, kind: agent}
      - {id: Bad Id, name: Bad, kind: human}
    seats:
      - {id: ceo, title: CEO, holder: ann}
      - {id: Sales Team, title: Sales, holder: nobody, reports_to: ceo}
      - id: ops
        title: Ops
        holder: ghost
        repots_to: ceo
        metrics:
          - {id: m1, name: Tickets, goal: "=> 10"}
          - {id: m2, name: Speed, goal: ">= 5", formula: "{m9} * 2"}
    approvals:
      - {seats: [ops, nowhere], channel: general, approvers: [bot]}
    schedules:
      - {post: briefing, channel: general, cron: "0 8 * * mon-fri"}
    """)

FIXED = textwrap.dedent("""\
    org: {name: Broken Co, timezone: Europe/Berlin}
    holders:
      - {id: ann, name: Ann, kind: human}
      - {id: bot, name: Bot, kind: agent, supervisor: ann}
      - {id: bad-id, name: Bad, kind: human}
    seats:
      - {id: ceo, title: CEO, holder: ann}
      - {id: sales-team, title: Sales, holder: bad-id, reports_to: ceo}
      - id: ops
        title: Ops
        holder: bot
        reports_to: ceo
        metrics:
          - {id: m1, name: Tickets, goal: ">= 10"}
          - {id: m2, name: Speed, goal: ">= 5", formula: "{m1} * 2"}
    approvals:
      - {seats: [ops, ceo], channel: C0APPROVALS, approvers: [ann]}
    schedules:
      - {post: briefing, channel: C0GENERAL, cron: "0 8 * * mon-fri"}
    """)

CHANNEL = (
    "is not a channel id; a channel is named by its id (C followed by letters and digits, like C0123ABCD), "
    "not its name: in Slack, open the channel's details (click its name) and find the id at the bottom of "
    "the About tab, or copy the channel's link, whose last part is the id"
)


def test_every_problem_is_reported_at_once_with_what_was_meant(db, tmp_path):
    path = tmp_path / "chart.yaml"
    path.write_text(BROKEN)
    result = otp(db, "chart", "import", str(path))
    assert result.returncode == 2 and result.stdout == ""
    lines = [line.removeprefix(f"{path}: ") for line in result.stderr.strip().splitlines()]
    assert lines[0] == f"{path} was not imported (12 problems; nothing was written):"
    assert sorted(lines[1:]) == sorted(
        [
            "holders[2].id: 'Bad Id' is not a valid id: lower-case letters, digits, '-', '_' or '.'",
            "seats[1].id: 'Sales Team' is not a valid id: lower-case letters, digits, '-', '_' or '.'",
            "seats[2].metrics[0].goal: `=> 10` is not a goal: did you mean `>= 10`?",
            "seats[2].repots_to: unknown key 'repots_to': did you mean `reports_to`?",
            f"approvals[0].channel: 'general' {CHANNEL}",
            f"schedules[0].channel: 'general' {CHANNEL}",
            "holders[1].supervisor: agent 'bot' needs an accountable human supervisor",
            "seats[1].holder: unknown holder 'nobody'",
            "seats[2].holder: unknown holder 'ghost'",
            "seats[2].metrics[1].formula: unknown metric 'm9'",
            "approvals[0].seats[1]: unknown seat 'nowhere'",
            "approvals[0].approvers[0]: 'bot' is an agent; only humans approve",
        ]
    )
    # Fixing those twelve is all it takes: no second round of problems.
    path.write_text(FIXED)
    fixed = otp(db, "chart", "import", str(path))
    assert fixed.returncode == 0, fixed.stderr


def test_an_unknown_key_far_from_any_lists_the_keys(db, tmp_path):
    path = tmp_path / "chart.yaml"
    path.write_text(FIXED.replace("title: Ops", "title: Ops\n    colour: red"))
    result = otp(db, "chart", "import", str(path), "--dry-run")
    assert result.returncode == 2
    assert result.stderr.splitlines()[1] == (
        f"{path}: seats[2].colour: unknown key 'colour'; the keys here are id, title, holder, reports_to, status, "
        "customer_facing, authority, aliases, accountabilities, owns, does_not_own, metrics"
    )
