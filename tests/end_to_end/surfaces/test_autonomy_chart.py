"""The chart file's `autonomy:` on an approval route, through `otp chart import` and `export`:
refused on a customer-facing seat's route (naming the route and the kind, importing nothing),
and round-tripped when allowed."""

from __future__ import annotations

import yaml
from sqlalchemy import func, select

from otp_bot.store.models import ApprovalRoute, Seat
from tests.support.cli import otp
from tests.support.paths import EXAMPLES


def _example() -> dict:
    return yaml.safe_load((EXAMPLES / "acme-agency.yaml").read_text())


def _route(data: dict, seat: str) -> dict:
    return next(r for r in data["approvals"] if seat in r["seats"])


def _seats(db) -> int:
    with db.session(readonly=True) as s:
        return s.scalar(select(func.count()).select_from(Seat)) or 0


def test_autonomy_on_a_customer_facing_route_is_refused_and_nothing_is_imported(db, tmp_path):
    data = _example()
    _route(data, "retention")["autonomy"] = {"kinds": ["internal-note"], "after": 20, "sample": "25%"}
    path = tmp_path / "chart.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    result = otp(db, "chart", "import", str(path))
    assert result.returncode != 0
    said = result.stdout + result.stderr
    assert "approvals[0].autonomy.kinds[0]" in said and "'internal-note'" in said
    assert "seats: retention" in said and "customer-facing" in said
    assert _seats(db) == 0


def test_autonomy_for_a_kind_the_route_does_not_route_is_refused(db, tmp_path):
    data = _example()
    _route(data, "call-center")["autonomy"] = {"kinds": ["shift-note"], "after": 5}
    path = tmp_path / "chart.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    result = otp(db, "chart", "import", str(path))
    assert result.returncode != 0 and "does not route kind 'shift-note'" in result.stdout + result.stderr
    assert _seats(db) == 0


def test_a_bad_sample_is_refused(db, tmp_path):
    data = _example()
    _route(data, "call-center")["autonomy"] = {"kinds": ["coaching-note"], "after": 5, "sample": "lots"}
    path = tmp_path / "chart.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    result = otp(db, "chart", "import", str(path))
    assert result.returncode != 0 and "not a share" in result.stdout + result.stderr
    assert _seats(db) == 0


def test_autonomy_round_trips_through_export(db, tmp_path):
    data = _example()
    _route(data, "call-center")["autonomy"] = {"kinds": ["coaching-note"], "after": 20, "sample": "25%"}
    path = tmp_path / "chart.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    imported = otp(db, "chart", "import", str(path))
    assert imported.returncode == 0, imported.stderr
    with db.session(readonly=True) as s:
        stored = [r.autonomy for r in s.scalars(select(ApprovalRoute).order_by(ApprovalRoute.position))]
    assert stored == [None, None, {"kinds": ["coaching-note"], "after": 20, "sample": 25}]

    out = tmp_path / "back.yaml"
    exported = otp(db, "chart", "export", "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    back = _route(yaml.safe_load(out.read_text()), "call-center")
    assert back["autonomy"] == {"kinds": ["coaching-note"], "after": 20, "sample": 25}
    again = otp(db, "chart", "import", str(out))
    assert again.returncode == 0 and again.stdout == "no changes\n", again.stdout + again.stderr

    # Removing it is a change an import reviewer reads in words.
    del data["approvals"][2]["autonomy"]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    changed = otp(db, "chart", "import", str(path))
    assert changed.returncode == 0 and "autonomy: none (was coaching-note after 20" in changed.stdout
