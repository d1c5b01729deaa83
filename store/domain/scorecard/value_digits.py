"""Reading digits with thousands separators and one decimal mark, exactly or not at all."""

from __future__ import annotations

import re
from decimal import Decimal

from otp_bot.store.domain.errors import Invalid

DECIMAL_MARKS = (".", ",")
GROUPING = " \u00a0\u202f\u2009'\u2019_"  # spaces (plain, no-break, narrow, thin), apostrophes, underscore


def read_digits(body: str, decimal_mark: str | None, shown: str) -> Decimal:
    """Digits with separators, read by the rules in the README (Values and the scorecard)."""
    body = body.strip()
    runs = re.split(r"([.,]|[" + GROUPING + r"]+)", body)
    digits, seps = runs[0::2], runs[1::2]
    if any(not run.isdigit() for run in digits[1:]) or (digits[0] and not digits[0].isdigit()):
        raise not_one_number(shown)
    if not seps:
        return Decimal(body)
    kinds = [("g" if s[0] in GROUPING else s) for s in seps]
    marks = [k for k in kinds if k in DECIMAL_MARKS]
    decimal_at: int | None = None  # index into seps of the decimal mark, if any
    if len(set(marks)) == 2:
        last = marks[-1]
        if marks.count(last) != 1 or kinds[-1] != last:
            raise not_one_number(shown)
        decimal_at = len(kinds) - 1
    elif len(marks) == 1:
        at = kinds.index(marks[0])
        if at != len(kinds) - 1:  # a grouping separator after the mark: 1,250 000
            raise not_one_number(shown)
        after, before = digits[at + 1], digits[at]
        could_group = len(after) == 3 and 1 <= len(before) <= 3 and before != "0" and digits[0] != ""
        if not could_group or decimal_mark == marks[0]:
            decimal_at = at
        elif decimal_mark is None:
            whole = "".join(digits)
            point = plain(Decimal("".join(digits[: at + 1]) + "." + after))
            first, second = (point, whole) if marks[0] == "." else (whole, point)
            raise Invalid(
                f"`{shown}` is ambiguous: did you mean {first} or {second}? Type {whole} without a "
                f"separator, or {point} with a decimal point",
                hint="an operator can set the org's `decimal_mark` in the chart file, so that "
                "a lone , or . is read one way",
            )
    integer = digits if decimal_at is None else digits[: decimal_at + 1]
    grouping = kinds if decimal_at is None else kinds[:decimal_at]
    if grouping and (len(set(grouping)) != 1 or not 1 <= len(integer[0]) <= 3 or any(len(g) != 3 for g in integer[1:])):
        raise not_one_number(shown)
    text = "".join(integer) or "0"
    if decimal_at is not None:
        text += "." + digits[-1]
    return Decimal(text)


def not_one_number(shown: str) -> Invalid:
    return Invalid(
        f"`{shown}` is not one number: write a decimal as 3.5 or 3,5, and thousands as "
        "1250, 1,250.50, 1.250,50 or 12 500; record one value at a time"
    )


def plain(number: Decimal) -> str:
    """A Decimal as plain digits, no exponent, no trailing zeros."""
    text = format(number.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
