"""`otp ask` takes what the README shows and answers in terminal terms: run as a user runs it."""

from __future__ import annotations

from tests.support.cli import otp


def test_a_command_copied_with_its_slash_prefix_is_answered(example_db):
    result = otp(example_db, "ask", "/otp chart sales")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "Acme Agency: chart below Sales Pipeline"


def test_share_prints_the_answer_and_says_where_it_would_go(example_db):
    result = otp(example_db, "ask", "share chart sales")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "Acme Agency: chart below Sales Pipeline"
    assert result.stderr.strip() == "(`share` posts the answer in the Slack channel it is typed in; here it is printed)"


def test_the_caller_at_the_cli_is_the_operator_unless_as_says_otherwise(example_db):
    result = otp(example_db, "ask", "kpi retention-saves 3 --correct")
    assert result.returncode == 0, result.stderr
    assert "Recorded 3 for At-risk clients saved (retention-saves)" in result.stdout
    as_dirk = otp(example_db, "ask", "--as", "dirk", "kpi retention-saves 3")
    assert as_dirk.returncode == 2 and "retention-saves" in as_dirk.stderr


def test_a_step_only_slack_can_take_names_its_cli_equivalent(example_db):
    result = otp(example_db, "ask", "retire kpi")
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == (
        "In Slack this opens a form; in a terminal: otp seat retire kpi --hearing hearing.yaml "
        "(the hearing as YAML: why, findings, recommendation, decision; see the README)"
    )


def test_hints_name_cli_commands(example_db):
    unknown = otp(example_db, "ask", "who-owns pizza")
    assert (
        unknown.stdout.strip()
        == 'No seat owns pizza as far as the chart says. otp ask "chart" shows every seat and what it owns.'
    )
    usage = otp(example_db, "ask", "who-owns")
    assert usage.returncode == 2
    assert usage.stderr.splitlines()[-1] == 'Usage: otp ask "who-owns <topic>"'
    typo = otp(example_db, "ask", "charrt")
    assert "/otp" not in typo.stderr and 'otp ask "chart [seat] [--image]"' in typo.stderr
