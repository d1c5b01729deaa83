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
    return list(_references(formula))


@functools.lru_cache(maxsize=4096)  # a briefing or scorecard reads each formula's inputs three times over
def _references(formula: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_REF.findall(formula)))


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
    try:
        return _evaluator(formula)(values)
    except (LookupError, ZeroDivisionError):
        return None


Evaluator = Callable[[Mapping[str, float | None]], float]


@functools.lru_cache(maxsize=4096)  # an org-wide scorecard evaluates each formula once per period
def _evaluator(formula: str) -> Evaluator:
    """The formula as nested functions, built once from its tree: evaluating it then walks no
    tree and tests no node's type. The operations and their order are the tree's."""
    tree, names = _compile(formula)

    def build(node: ast.expr) -> Evaluator:
        if isinstance(node, ast.Constant):
            assert isinstance(node.value, (int, float))  # `_compile` lets no other constant through
            constant = float(node.value)
            return lambda _values: constant
        if isinstance(node, ast.Name):
            metric = names[node.id]

            def read(values: Mapping[str, float | None]) -> float:
                value = values.get(metric)
                if value is None:
                    raise LookupError
                return value

            return read
        if isinstance(node, ast.UnaryOp):
            unary, operand = _UNARY[type(node.op)], build(node.operand)
            return lambda values: unary(operand(values))
        assert isinstance(node, ast.BinOp)
        binary, left, right = _BINARY[type(node.op)], build(node.left), build(node.right)
        return lambda values: binary(left(values), right(values))

    return build(tree)
