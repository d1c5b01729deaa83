"""The lifecycle tests' org, loaded into a fresh store."""

from __future__ import annotations

import pytest

from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.sync.apply import apply_chart
from tests.support.lifecycle import org_chart


@pytest.fixture
def org(db):
    with db.session() as s:
        apply_chart(s, validate_chart(org_chart(), "t"), actor="t", source="t")
    return db
