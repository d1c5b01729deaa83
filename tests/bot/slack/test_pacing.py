"""The pacer: each call's slot in its lanes (the method's tier, a post's channel), turns taken
before a fenced call, and a 429 holding the lane. On a clock the test moves, then through the
real client against the Slack stand-in."""

from __future__ import annotations

import threading
import time

import pytest
from slack_sdk.errors import SlackApiError

from otp_bot.bot.slack.client import make_client
from otp_bot.bot.slack.pacing import TIER_OF, TIERS, Pacer, pacer_for
from tests.support.slack.api import SlackAPI


class Clock:
    """Time that passes only when the pacer sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def sent_at(pacer: Pacer, clock: Clock, calls: list[tuple[str, str | None]]) -> list[float]:
    """When each call would go, waiting as the client does."""
    out = []
    for method, channel in calls:
        pacer.wait(method, channel)
        out.append(clock.now - 1000.0)
    return out


def test_posts_to_one_channel_go_one_a_second_and_other_channels_do_not_wait(clock):
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    times = sent_at(pacer, clock, [("chat.postMessage", "C1")] * 4)
    assert times == pytest.approx([0, 1, 2, 3])
    assert sent_at(pacer, clock, [("chat.postMessage", "C2"), ("chat.postMessage", "D3")]) == pytest.approx([3, 3])


def test_a_tier_lets_its_burst_through_then_no_minute_holds_more_than_its_count(clock):
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    assert TIER_OF["chat.update"] == 3
    per_minute, burst = TIERS[3]
    times = sent_at(pacer, clock, [("chat.update", f"C{i}") for i in range(200)])  # channels do not matter here
    assert times[:burst] == [0.0] * burst and times[burst] > 0
    for start in times:  # every window of 60 s that begins with a call
        assert sum(1 for t in times if start <= t < start + 60) <= per_minute
    assert 150 <= times[-1] <= 60 * 200 / (per_minute - burst) + 1  # paced, not stalled


def test_methods_have_lanes_of_their_own(clock):
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    sent_at(pacer, clock, [("usergroups.users.list", None)] * TIERS[2][1])  # Tier 2's burst used up
    assert sent_at(pacer, clock, [("users.info", None)]) == [0.0]
    assert pacer.reserve("usergroups.users.list") > 0


def test_a_turn_waits_first_and_the_call_inside_it_goes_at_once(clock):
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    pacer.wait("chat.postMessage", "C1")
    with pacer.turn("chat.postMessage", "C1") as waited:
        assert waited == pytest.approx(1.0)  # the wait happened here, before the claim is confirmed
        confirmed_at = clock.now
        assert pacer.wait("chat.postMessage", "C1") == 0.0  # the call itself
    assert clock.now == confirmed_at
    assert pacer.wait("chat.postMessage", "C1") == pytest.approx(1.0)  # the next one waits again


def test_a_turn_without_the_channel_is_the_turn_of_a_call_whose_lanes_ignore_it(clock):
    # The worker takes chat.update's turn without naming a channel; the client's
    # call names the channel. One slot of the method's lane, not two.
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    for _ in range(10):  # Tier 3's burst spent: from here every slot waits
        pacer.wait("chat.update", "C1")
    with pacer.turn("chat.update") as waited:
        assert waited == pytest.approx(1.5)
        assert pacer.wait("chat.update", "C1") == 0.0
    assert pacer.wait("chat.update", "C2") == pytest.approx(1.5)  # the next slot, not the one after


def test_an_unused_turn_is_not_carried_to_a_later_call(clock):
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    with pytest.raises(RuntimeError), pacer.turn("chat.postMessage", "C1"):
        raise RuntimeError("the claim was taken over: no call")
    assert pacer.wait("chat.postMessage", "C1") == pytest.approx(1.0)


def test_turns_belong_to_their_thread(clock):
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    other: list[float] = []
    with pacer.turn("chat.postMessage", "C1"):
        t = threading.Thread(target=lambda: other.append(pacer.reserve("chat.postMessage", "C1")))
        t.start()
        t.join()
    assert other == [pytest.approx(1.0)]  # the other thread queued behind the turn


def test_a_429_holds_the_lane_for_retry_after(clock):
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    pacer.hold("chat.postMessage", "C1", 30)
    assert pacer.wait("chat.postMessage", "C1") == pytest.approx(30)
    assert pacer.wait("chat.postMessage", "C2") == 0.0


def test_pace_scales_every_rate_and_zero_turns_pacing_off(clock):
    double = Pacer(2.0, clock=clock, sleep=clock.sleep)
    assert sent_at(double, clock, [("chat.postMessage", "C1")] * 3) == pytest.approx([0, 0.5, 1.0])
    off = Pacer(0, clock=clock, sleep=clock.sleep)
    for _ in range(100):
        off.wait("chat.postMessage", "C1")
    off.hold("chat.postMessage", "C1", 30)
    assert off.wait("chat.postMessage", "C1") == 0.0 and clock.slept == [pytest.approx(0.5)] * 2
    with pytest.raises(ValueError, match="pace"):
        Pacer(-1)


def test_one_pacer_per_token_and_workspace_shared_by_every_client_of_the_process():
    a = make_client("xoxb-one", "http://127.0.0.1:9/api/")
    b = make_client("xoxb-one", "http://127.0.0.1:9/api/")
    c = make_client("xoxb-two", "http://127.0.0.1:9/api/")
    assert a.pacer is b.pacer and a.pacer is not c.pacer  # type: ignore[attr-defined]
    assert pacer_for("xoxb-one", "http://127.0.0.1:9/api/", a.pacer.pace) is a.pacer  # type: ignore[attr-defined]


def test_a_429_from_slack_makes_the_next_post_to_that_channel_wait():
    with SlackAPI() as api:
        client = make_client("xoxb-test", api.url, pacer=Pacer(1.0))
        client.chat_postMessage(channel="C1", text="first")
        api.fail_next("chat.postMessage", status=429, retry_after=2)
        time.sleep(1.0)  # the channel's next slot has come: only the 429 makes the next post wait
        with pytest.raises(SlackApiError):  # a post is never retried inside the client
            client.chat_postMessage(channel="C1", text="refused")
        started = time.monotonic()
        client.chat_postMessage(channel="C1", text="after the wait")
        assert time.monotonic() - started >= 1.9
        started = time.monotonic()
        client.chat_postMessage(channel="C2", text="another channel")
        assert time.monotonic() - started < 0.5
        assert [m["text"] for m in api.history("C1")] == ["first", "after the wait"]
