"""Formulas over other metrics: `{won} / {proposals} * 100`.

Parsed with Python's own `ast` and evaluated by walking only arithmetic nodes, so a
formula can never call, import or reach an attribute.
"""

from __future__ import annotations

import ast
import functools
import operator
import re
from collections.abc import Callable, Mapping

from otp_bot.store.domain.errors import Invalid

_REF = re.compile(r"\{([a-z0-9][a-z0-9_.-]*)\}", re.IGNORECASE)
_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_UNARY: dict[type[ast.unaryop], Callable[[float], float]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}


def references(formula: str) -> list[str]:
    return list(dict.fromkeys(_REF.findall(formula)))


@functools.lru_cache(maxsize=4096)  # a scorecard evaluates each formula once per period
def _compile(formula: str) -> tuple[ast.expr, dict[str, str]]:
    names: dict[str, str] = {}

    def name_for(match: re.Match[str]) -> str:
        names.setdefault(f"m{len(names)}", match[1])
        return next(k for k, v in names.items() if v == match[1])

    source = _REF.sub(name_for, formula)
    try:
        tree = ast.parse(source, mode="eval").body
    except SyntaxError:
        raise Invalid(
            f"formula `{formula}` does not parse: use {{metric-id}}, numbers, + - * / and parentheses"
        ) from None
    for node in ast.walk(tree):
        allowed = (ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Load, *_BINARY, *_UNARY)
        if not isinstance(node, allowed) or (
            isinstance(node, ast.Constant) and not isinstance(node.value, (int, float))
        ):
            raise Invalid(f"formula `{formula}` may use only {{metric-id}}, numbers, + - * / and parentheses")
        if isinstance(node, ast.Name) and node.id not in names:
            raise Invalid(
                f"formula `{formula}`: `{node.id}` is not a metric; write metric ids in braces, like {{{node.id}}}"
            )
    return tree, names


def validate(formula: str) -> list[str]:
    """Check the syntax; return the metric ids it refers to."""
    _compile(formula)
    return references(formula)


def evaluate(formula: str, values: Mapping[str, float | None]) -> float | None:
    """The formula's value, or None when an input is missing or it divides by zero."""
    tree, names = _compile(formula)

    def walk(node: ast.expr) -> float:
        if isinstance(node, ast.Constant):
            assert isinstance(node.value, (int, float))  # `_compile` lets no other constant through
            return float(node.value)
        if isinstance(node, ast.Name):
            value = values.get(names[node.id])
            if value is None:
                raise LookupError
            return value
        if isinstance(node, ast.UnaryOp):
            return _UNARY[type(node.op)](walk(node.operand))
        assert isinstance(node, ast.BinOp)
        return _BINARY[type(node.op)](walk(node.left), walk(node.right))

    try:
        return walk(tree)
    except (LookupError, ZeroDivisionError):
        return None
