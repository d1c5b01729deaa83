"""Earned autonomy follows the chart as it is now: trust is the holder's who earned it under the
route that allowed it. A new holder of the seat, or a route that no longer allows it, ends the
grant on the record, and the count starts again from the new holder's own approvals."""

from __future__ import annotations

from importlib import resources

import yaml

from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.gate import autonomy, autonomy_grants
from otp_bot.store.models import AuditEntry, AutonomyGrant, Draft
from tests.support.charts import load
from tests.support.drafts import BOGDAN, decide, submit

ARIN = Actor(label="Arin", holder_id="arin")
RADAR = Actor(label="Radar", holder_id="radar")
KIND = "coaching-note"


def chart(holder: str = "arin", autonomy_on: bool = True) -> dict:
    data = yaml.safe_load((resources.files("otp_bot.examples") / "acme-agency.yaml").read_text(encoding="utf-8"))
    route = next(r for r in data["approvals"] if r["seats"] == ["call-center"])
    if autonomy_on:
        route["autonomy"] = {"kinds": [KIND], "after": 2, "sample": 0}
    next(s for s in data["seats"] if s["id"] == "call-center")["holder"] = holder
    return data


def note(db, actor=ARIN) -> int:
    return submit(
        db, actor=actor, seat_id="call-center", kind=KIND, subject="caller:sam", title="Coaching",
        body="Sam, slow down on the greeting.", customer_facing=False,
    )  # fmt: skip


def earn(db) -> None:
    for _ in range(2):
        decide(db, BOGDAN, note(db))


def status(db, draft_id: int) -> tuple[str, str | None]:
    with db.session(readonly=True) as s:
        d = s.get(Draft, draft_id)
        return d.status, d.decided_by


def ended(db) -> list[tuple[str | None, str | None]]:
    with db.session(readonly=True) as s:
        grants = s.query(AutonomyGrant).order_by(AutonomyGrant.id).all()
        return [(g.holder_id, g.reason) for g in grants if g.revoked_at is not None]


def test_a_new_holder_does_not_inherit_the_autonomy_the_last_one_earned(example_db):
    load(example_db, chart())
    earn(example_db)
    assert status(example_db, note(example_db)) == ("approved", autonomy.POLICY)

    load(example_db, chart(holder="radar"))  # the seat changes hands
    assert ended(example_db) == [("arin", "seat `call-center` is now held by Radar, who earns their own")]
    with example_db.session(readonly=True) as s:
        revoked = s.query(AuditEntry).filter(AuditEntry.action == "autonomy.revoked").one()
        assert revoked.detail["by_chart"] is True
        standing = autonomy_grants.standing(s, "call-center")
        assert [(x.kind, x.count, x.grant) for x in standing] == [(KIND, 0, None)]  # Arin's approvals are Arin's
    assert status(example_db, note(example_db, RADAR)) == ("pending", None)  # to a person


def test_a_route_that_no_longer_allows_autonomy_ends_the_grant(example_db):
    load(example_db, chart())
    earn(example_db)
    load(example_db, chart(autonomy_on=False))
    assert ended(example_db) == [("arin", "the chart no longer lets `call-center` earn autonomy for `coaching-note`")]
    load(example_db, chart())  # allowed again: earned afresh, not resumed
    assert status(example_db, note(example_db)) == ("pending", None)
