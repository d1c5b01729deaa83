"""The declarative base, the naming convention and the value lists the tables share."""

from __future__ import annotations

from typing import Any, ClassVar, Literal, get_args

from sqlalchemy import JSON, MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

HolderKind = Literal["human", "agent"]
HOLDER_KINDS = get_args(HolderKind)
SeatStatus = Literal["active", "vacant", "planned", "retired"]
SEAT_STATUSES = get_args(SeatStatus)
# What a metric measures (store/domain/scorecard/measures.py); before migration 0014 the unit column
# held one of number, percent, currency, minutes, yesno.
MetricKind = Literal["number", "percent", "currency", "duration", "yesno", "score"]
METRIC_KINDS = get_args(MetricKind)
TIME_UNITS = ("seconds", "minutes", "hours", "days", "weeks")
# What a seat's holder may do without a person: OTP's four levels, then the OOS schema's
# agent levels. view-only and advisory seats do not draft; every other draft waits for a person.
AuthorityLevel = Literal[
    "view-only",
    "advisory",
    "recommend",
    "supervised",
    "execute-with-approval",
    "semi_autonomous",
    "autonomous",
]
AUTHORITY_LEVELS = get_args(AuthorityLevel)
Confidence = Literal["HIGH", "MEDIUM", "LOW"]
CONFIDENCES = get_args(Confidence)
Cadence = Literal["weekly", "monthly", "quarterly", "annual"]
CADENCES = get_args(Cadence)
Aggregation = Literal["last", "sum", "avg", "min", "max"]
AGGREGATIONS = get_args(Aggregation)
GOAL_OPS = (">=", "<=", "==", ">", "<", "in", "out")
VALUE_SOURCES = ("api", "manual", "import")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[str]: JSON}
