"""The door's hand-over of one answer between the waiting request and the worker: whichever
comes second decides, so the answer goes exactly once, in the response or to response_url."""

from __future__ import annotations

import threading

from otp_bot.bot.slack.door import _HandOver

ANSWER = {"response_type": "ephemeral", "text": "*Client Retention* owns _retention_."}


def test_an_answer_ready_in_time_goes_in_the_response():
    hand_over = _HandOver()
    assert hand_over.given_by_worker(ANSWER) is True  # the request will send it
    assert hand_over.taken_by_request() == ANSWER


def test_an_answer_late_for_the_budget_is_the_workers_to_send():
    hand_over = _HandOver()
    assert hand_over.taken_by_request() is None  # the request acks "working on it"
    assert hand_over.given_by_worker(ANSWER) is False  # so the worker sends it


def test_at_the_same_moment_exactly_one_side_sends_it():
    for _ in range(2000):
        hand_over = _HandOver()
        start = threading.Barrier(2)
        sent: list[str] = []

        def worker(hand_over=hand_over, start=start, sent=sent):
            start.wait()
            if not hand_over.given_by_worker(ANSWER):
                sent.append("response_url")

        thread = threading.Thread(target=worker)
        thread.start()
        start.wait()
        if hand_over.taken_by_request() is not None:
            sent.append("response")
        thread.join()
        assert len(sent) == 1, sent
