"""Tests of the Slack stand-in's failure injection, waiting and reset, and file uploads,
driven by the real slack-sdk."""

from __future__ import annotations

import threading
import time

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RateLimitErrorRetryHandler

from tests.support.slack.api import SlackAPI

# ---- failure injection -------------------------------------------------------------------


def test_429_is_retried_by_the_rate_limit_handler(slack_api: SlackAPI, client: WebClient) -> None:
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    slack_api.fail_next("chat.postMessage", status=429, retry_after=1)
    posted = client.chat_postMessage(channel="C1", text="eventually")
    assert posted["ok"]
    first, second = slack_api.calls_to("chat.postMessage")
    assert (first.status, first.failed, first.error) == (429, "http 429", "ratelimited")
    assert second.ok and second.failed is None
    assert second.at - first.at >= 1.0  # Retry-After honoured (plus up to 1 s of jitter)
    assert len(slack_api.history("C1")) == 1


def test_429_without_retry_handler_surfaces(slack_api: SlackAPI, client: WebClient) -> None:
    slack_api.fail_next("users.info", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as e:
        client.users_info(user="U1")
    assert e.value.response.status_code == 429 and e.value.response.headers["Retry-After"] == "7"


def test_500_surfaces_as_slack_api_error(slack_api: SlackAPI, client: WebClient) -> None:
    slack_api.fail_next("chat.postMessage", status=500)
    with pytest.raises(SlackApiError) as e:
        client.chat_postMessage(channel="C1", text="lost")
    assert e.value.response.status_code == 500
    [call] = slack_api.calls_to("chat.postMessage")
    assert call.failed == "http 500"
    assert slack_api.history("C1") == []
    assert client.chat_postMessage(channel="C1", text="next one")["ok"]  # the queue drained


def test_error_injection_times(slack_api: SlackAPI, client: WebClient) -> None:
    slack_api.fail_next("chat.update", error="ratelimited", times=2)
    ts = client.chat_postMessage(channel="C1", text="a")["ts"]
    for _ in range(2):
        with pytest.raises(SlackApiError) as e:
            client.chat_update(channel="C1", ts=ts, text="b")
        assert e.value.response.status_code == 200 and e.value.response["error"] == "ratelimited"
    assert client.chat_update(channel="C1", ts=ts, text="b")["ok"]
    assert [c.failed for c in slack_api.calls_to("chat.update")] == ["error ratelimited"] * 2 + [None]
    assert not slack_api.rejections  # injected failures are not rejections


def test_delay_times_the_client_out_but_the_post_still_happened(slack_api: SlackAPI) -> None:
    client = WebClient(token="xoxb-test", base_url=slack_api.url, timeout=1)
    slack_api.fail_next("chat.postMessage", delay=3.0)
    with pytest.raises(TimeoutError):  # a read timeout is not retried by the default handler
        client.chat_postMessage(channel="C1", text="did it post?")
    assert len(slack_api.calls_to("chat.postMessage")) == 1
    assert slack_api.history("C1")[0]["text"] == "did it post?"  # it did: retrying would post twice


def test_close_is_prompt_even_with_a_delayed_answer_pending() -> None:
    api = SlackAPI()
    api.fail_next("auth.test", delay=30)
    worker = threading.Thread(target=lambda: WebClient(token="xoxb-t", base_url=api.url).auth_test())
    worker.start()
    api.wait_for("auth.test")
    started = time.monotonic()
    api.close()
    worker.join(timeout=5)
    assert time.monotonic() - started < 2 and not worker.is_alive()


def test_fail_next_refuses_nonsense(slack_api: SlackAPI) -> None:
    with pytest.raises(ValueError, match="fail_next needs status, error or delay"):
        slack_api.fail_next("chat.postMessage")
    with pytest.raises(TypeError):
        slack_api.fail_next("chat.postMessage", status=429, retry_after=1.5)  # type: ignore[arg-type]


# ---- waiting, reset ----------------------------------------------------------------------


def test_wait_for_blocks_until_calls_arrive(slack_api: SlackAPI, client: WebClient) -> None:
    threading.Timer(0.2, lambda: client.chat_postMessage(channel="C1", text="later")).start()
    [call] = slack_api.wait_for("chat.postMessage", timeout=5)
    assert call.args["text"] == "later"


def test_wait_for_reports_what_it_saw(slack_api: SlackAPI, client: WebClient) -> None:
    client.auth_test()
    with pytest.raises(AssertionError, match=r"(?s)expected 1 call\(s\) to views.open.*auth.test -> ok"):
        slack_api.wait_for("views.open", timeout=0.2)


def test_reset_forgets_traffic_but_keeps_configuration(slack_api: SlackAPI, client: WebClient) -> None:
    slack_api.users["U1"] = {"email": "a@b.test"}
    client.chat_postMessage(channel="C1", text="x")
    slack_api.fail_next("auth.test", status=500)
    slack_api.reset()
    assert slack_api.calls == [] and slack_api.history("C1") == []
    assert client.auth_test()["ok"] and client.users_info(user="U1")["ok"]


# ---- files -------------------------------------------------------------------------------


def test_files_upload_v2_records_the_bytes(slack_api: SlackAPI, client: WebClient) -> None:
    png = b"\x89PNG\r\n\x1a\n fake chart"
    done = client.files_upload_v2(
        channel="C1", content=png, filename="x.png", title="Scorecard", initial_comment="This week"
    )
    assert done["file"]["name"] == "x.png"
    methods = [c.method for c in slack_api.calls]
    assert methods == ["files.getUploadURLExternal", "upload_url", "files.completeUploadExternal"]
    upload = slack_api.calls_to("upload_url")[0]
    assert upload.args["size"] == len(png) and "authorization" not in upload.headers
    f = slack_api.files[done["file"]["id"]]
    assert (f.content, f.channels, f.title, f.initial_comment) == (png, ["C1"], "Scorecard", "This week")
    complete = slack_api.calls_to("files.completeUploadExternal")[0]
    assert complete.args["files"] == [{"id": f.id, "title": "Scorecard"}]  # sent as a JSON string, decoded


# ---- Slack's posting limit, enforced ------------------------------------------------------


def test_enforced_post_rate_answers_a_burst_with_429_and_posts_nothing_for_it(slack_api: SlackAPI) -> None:
    client = WebClient(token="xoxb-test", base_url=slack_api.url)  # no pacing, no retry
    slack_api.enforce_post_rate(per_second=1.0, burst=2)
    assert client.chat_postMessage(channel="C1", text="burst 0")["ok"]
    assert client.chat_postMessage(channel="C1", text="burst 1")["ok"]  # the burst of 2
    for n in (2, 3):
        with pytest.raises(SlackApiError) as e:
            client.chat_postMessage(channel="C1", text=f"burst {n}")
        answer = e.value.response
        assert (answer.status_code, answer["error"], answer.headers["Retry-After"]) == (429, "ratelimited", "1")
    assert client.chat_postMessage(channel="C2", text="another channel")["ok"]  # per channel
    assert [c.failed for c in slack_api.calls_to("chat.postMessage")].count("rate limited") == 2
    assert [m["text"] for m in slack_api.history("C1")] == ["burst 0", "burst 1"]
    time.sleep(1.05)
    assert client.chat_postMessage(channel="C1", text="a second later")["ok"]
    slack_api.enforce_post_rate(0)
    for n in range(5):
        client.chat_postMessage(channel="C1", text=f"free again {n}")
    assert not slack_api.rejections  # Slack's limit is not a malformed request


def test_posts_spaced_at_the_enforced_rate_all_go_through(slack_api: SlackAPI) -> None:
    client = WebClient(token="xoxb-test", base_url=slack_api.url)
    slack_api.enforce_post_rate(per_second=10.0)
    for n in range(15):
        client.chat_postMessage(channel="C1", text=f"paced {n}")
        time.sleep(0.1)
    assert all(c.ok for c in slack_api.calls_to("chat.postMessage"))
