"""A small, safe expression language for cuts and derived variables.

A cut such as ``"Met > 250 and (Njet >= 2 or abs(LepEta) < 1.5)"`` is data, not code:
it is parsed with Python's own parser into a syntax tree, every node is checked
against an allowed grammar, and the tree is evaluated on the columns by walking it,
never by ``eval``. Allowed: numbers and quoted strings, the names of the columns,
arithmetic (``+ - * / // % **``, unary ``-``/``+``), comparisons (chained too),
``and``/``or``/``not`` (and pandas' ``&``/``|``/``~``), and the functions of
:data:`FUNCTIONS`. Anything else (attributes, subscripts, other calls, ``@`` names,
lambdas, comprehensions) is rejected, naming the offending piece.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Collection, Mapping

import numpy as np

#: The functions an expression may call, each with one argument.
FUNCTIONS: dict[str, Callable] = {
    "abs": np.abs,
    "sqrt": np.sqrt,
    "log": np.log,
    "exp": np.exp,
    "cos": np.cos,
    "sin": np.sin,
}

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.BitAnd: np.logical_and,
    ast.BitOr: np.logical_or,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: np.logical_not}
_UNARY[ast.Invert] = np.logical_not
_COMPARE = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


class ExpressionError(ValueError):
    """An expression outside the allowed grammar, or naming an unknown column."""


def parse_expression(text: str, names: Collection[str], what: str = "expression") -> ast.Expression:
    """The checked syntax tree of ``text``; ``names`` are the columns it may use.

    Raises :class:`ExpressionError` naming the offending token for a syntax error, a
    construct outside the grammar or an unknown name."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        where = f" at column {error.offset}" if error.offset else ""
        token = _token_at(text.strip(), error.offset)
        raise ExpressionError(
            f"{what} {text!r}: syntax error{where} (near {token!r}); write a condition such "
            'as "Met > 250 and Njet >= 2"'
        ) from None
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    for node in ast.walk(tree):
        _check_node(node, text, names, what, called)
    return tree


def evaluate_expression(tree: ast.Expression, columns: Mapping[str, np.ndarray]):
    """The value of a checked expression on ``columns`` (arrays of equal length)."""
    return _evaluate(tree.body, columns)


def expression_names(tree: ast.Expression) -> list[str]:
    """The column names an expression uses, in order of appearance."""
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    nodes = [
        node for node in ast.walk(tree) if isinstance(node, ast.Name) and id(node) not in called
    ]
    nodes.sort(key=lambda node: (node.lineno, node.col_offset))
    return list(dict.fromkeys(node.id for node in nodes))


def _check_node(
    node: ast.AST, text: str, names: Collection[str], what: str, called: set[int]
) -> None:
    allowed = (
        ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.BinOp, ast.UnaryOp, ast.Compare,
        ast.Constant, ast.Name, ast.Load, ast.Call, *_BINARY, *_UNARY, *_COMPARE,
    )  # fmt: skip
    if not isinstance(node, allowed):
        raise ExpressionError(
            f"{what} {text!r}: {_describe(node, text)} is not allowed; an expression may use "
            "numbers, column names, arithmetic, comparisons, and/or/not and "
            f"{', '.join(FUNCTIONS)}"
        )
    if isinstance(node, ast.Constant) and not isinstance(node.value, int | float | str):
        raise ExpressionError(f"{what} {text!r}: the constant {node.value!r} is not allowed")
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise ExpressionError(
                f"{what} {text!r}: the call {_segment(node.func, text)!r} is not allowed; "
                f"only {', '.join(FUNCTIONS)} may be called"
            )
        if len(node.args) != 1 or node.keywords:
            raise ExpressionError(f"{what} {text!r}: {node.func.id}() takes one argument")
    if isinstance(node, ast.Name) and id(node) in called:
        return  # a function's name, checked with its call
    if isinstance(node, ast.Name) and node.id not in names:
        raise ExpressionError(
            f"{what} {text!r}: unknown name {node.id!r}; it may use {', '.join(names)}"
        )


def _evaluate(node: ast.AST, columns: Mapping[str, np.ndarray]):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in columns:
            raise ExpressionError(f"unknown name {node.id!r}")
        return np.asarray(columns[node.id])
    if isinstance(node, ast.BoolOp):
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        values = [_evaluate(value, columns) for value in node.values]
        result = values[0]
        for value in values[1:]:
            result = combine(result, value)
        return result
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](_evaluate(node.left, columns), _evaluate(node.right, columns))
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_evaluate(node.operand, columns))
    if isinstance(node, ast.Compare):
        left = _evaluate(node.left, columns)
        result = None
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _evaluate(comparator, columns)
            outcome = _COMPARE[type(op)](left, right)
            result = outcome if result is None else np.logical_and(result, outcome)
            left = right
        return result
    if isinstance(node, ast.Call):
        return FUNCTIONS[node.func.id](_evaluate(node.args[0], columns))
    raise ExpressionError(f"{type(node).__name__} is not allowed")


def _describe(node: ast.AST, text: str) -> str:
    segment = ast.get_source_segment(text.strip(), node) if hasattr(node, "lineno") else None
    kinds = {
        ast.Attribute: "the attribute access",
        ast.Subscript: "the subscript",
        ast.Lambda: "the lambda",
        ast.IfExp: "the conditional expression",
        ast.List: "the list",
        ast.Tuple: "the tuple",
        ast.Dict: "the dict",
        ast.Set: "the set",
        ast.ListComp: "the comprehension",
        ast.GeneratorExp: "the generator",
        ast.NamedExpr: "the assignment",
        ast.Starred: "the starred expression",
        ast.JoinedStr: "the f-string",
    }
    kind = kinds.get(type(node), f"the {type(node).__name__}")
    return f"{kind} {segment!r}" if segment else kind


def _segment(node: ast.AST, text: str) -> str:
    return ast.get_source_segment(text.strip(), node) or type(node).__name__


def _token_at(text: str, offset: int | None) -> str:
    if not offset:
        return text[:10]
    return text[max(offset - 1, 0) : offset + 9]
