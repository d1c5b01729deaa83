"""The console's stand-in for Slack answers as Slack does for what the review needs: a post to
a person lands in the DM with them, a reply keeps its thread (and an update keeps it there),
history and a thread's replies read back what was posted, and a message has a permalink."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from otp_bot.bot.console.standin import SlackStandIn


@pytest.fixture
def seen() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    return []


@pytest.fixture
def client(seen) -> Iterator[WebClient]:
    with SlackStandIn(lambda method, args, answer: seen.append((method, args, answer))) as standin:
        yield WebClient(token="xoxb-local-console", base_url=standin.url)


def test_a_reply_keeps_its_thread_through_an_update_and_reads_back(client, seen):
    post = client.chat_postMessage(channel="C0L10", text="Scorecard review")
    reply = client.chat_postMessage(
        channel="C0L10", text="Weekly review", thread_ts=post["ts"], metadata={"event_type": "t", "event_payload": {}}
    )
    assert reply["message"]["thread_ts"] == post["ts"]
    updated = client.chat_update(channel="C0L10", ts=reply["ts"], text="Weekly review, running")
    assert (updated["ts"], updated["message"]["thread_ts"]) == (reply["ts"], post["ts"])
    assert seen[-1][0] == "chat.update" and seen[-1][2]["message"]["thread_ts"] == post["ts"]

    history = client.conversations_history(channel="C0L10")["messages"]
    assert [m["text"] for m in history] == ["Scorecard review"]  # replies stay in their thread
    replies = client.conversations_replies(channel="C0L10", ts=post["ts"])["messages"]
    assert [m["text"] for m in replies] == ["Scorecard review", "Weekly review, running"]
    assert replies[1]["metadata"]["event_type"] == "t"
    assert client.conversations_history(channel="C0L10", oldest="9999999999")["messages"] == []

    link = client.chat_getPermalink(channel="C0L10", message_ts=reply["ts"])["permalink"]
    assert link.endswith(f"p{reply['ts'].replace('.', '')}?thread_ts={post['ts']}&cid=C0L10")
    with pytest.raises(SlackApiError) as refused:
        client.chat_getPermalink(channel="C0L10", message_ts="1.000001")
    assert refused.value.response["error"] == "message_not_found"


def test_a_post_to_a_person_lands_in_the_dm_with_them(client):
    dm = client.conversations_open(users="U02BGD4N8RM")["channel"]["id"]
    posted = client.chat_postMessage(channel="U02BGD4N8RM", text="New to-dos for you")
    assert posted["channel"] == dm == "D02BGD4N8RM"
    assert [m["text"] for m in client.conversations_history(channel=dm)["messages"]] == ["New to-dos for you"]


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_a_post_without_text_or_channel_is_refused(client):
    for args in ({"channel": "C0L10"}, {"channel": "", "text": "x"}):
        with pytest.raises(SlackApiError):
            client.chat_postMessage(**args)
