"""A small, safe expression language for cuts and derived variables.

A cut such as ``"Met > 250 and (Njet >= 2 or abs(LepEta) < 1.5)"`` is data, not code:
it is parsed with Python's own parser into a syntax tree, every node is checked
against an allowed grammar, and the tree is evaluated on the columns by walking it,
never by ``eval``. Allowed: numbers and quoted strings, the names of the columns,
arithmetic (``+ - * / // % **``, unary ``-``/``+``), comparisons (chained too),
``and``/``or``/``not`` (and pandas' ``&``/``|``/``~``), and the functions of
:data:`FUNCTIONS`. Anything else (attributes, subscripts, other calls, ``@`` names,
lambdas, comprehensions) is rejected, naming the offending piece.

With ``objects=True`` (variables read from ROOT ntuples, one list of objects per event
in jagged branches), two more constructs are allowed, evaluated with awkward arrays:

- picks ``Muon_pt[:, 0]`` (the first object of each event; a configured fill value
  where an event has none) and masks ``Jet_pt[Jet_pt > 30]``;
- the per-event reductions ``ak.num``, ``ak.sum``, ``ak.max``, ``ak.min``,
  ``ak.mean``, ``ak.any``, ``ak.all`` and ``ak.count_nonzero`` with an optional
  ``axis=`` number (default 1: over each event's objects; an event without objects
  gets the fill value where the reduction has no value).
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
    "tan": np.tan,
    "arctan": np.arctan,
    "arcsinh": np.arcsinh,
    "sinh": np.sinh,
    "cosh": np.cosh,
}
#: The awkward-array reductions an ``objects`` expression may call as ``ak.<name>``.
AWKWARD_REDUCTIONS = ("num", "sum", "max", "min", "mean", "any", "all", "count_nonzero")

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


def parse_expression(
    text: str, names: Collection[str] | None, what: str = "expression", objects: bool = False
) -> ast.Expression:
    """The checked syntax tree of ``text``; ``names`` are the columns it may use (``None``:
    any name, checked later against a file's branches); ``objects`` allows the picks,
    masks and ``ak`` reductions of per-object (jagged) branches.

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
    if objects:
        called |= _awkward_names(tree)
    texts = _compared_texts(tree)
    for node in ast.walk(tree):
        if objects and _check_object_node(node, text, what, called):
            continue
        _check_node(node, text, names, what, called, texts)
    return tree


#: The columns that hold text: a text constant may only be compared with them.
TEXT_COLUMNS = ("process",)


def _compared_texts(tree: ast.Expression) -> set[int]:
    """The text constants that a comparison sets against a text column
    (``process == 'ttbar.root'``): the only place a text may stand."""
    allowed = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and all(
            isinstance(op, ast.Eq | ast.NotEq) for op in node.ops
        ):
            operands = [node.left, *node.comparators]
            columns = [o for o in operands if not isinstance(o, ast.Constant)]
            if columns and all(isinstance(o, ast.Name) and o.id in TEXT_COLUMNS for o in columns):
                allowed |= {id(o) for o in operands if isinstance(o, ast.Constant)}
    return allowed


def check_condition(tree: ast.Expression, text: str, what: str = "expression") -> None:
    """Raise :class:`ExpressionError` unless ``tree`` is true/false per event: a
    comparison, or such conditions joined by ``and``/``or``/``not`` (``&``/``|``/``~``).
    Caught from the text alone, so at start-up, not in a job."""
    if not _is_condition(tree.body):
        raise ExpressionError(
            f"{what} {text!r} is not a condition (true or false per event): "
            f"{_segment(tree.body, text)!r} is a value; compare it, as in "
            '"Met > 250 and Njet >= 2"'
        )


def _is_condition(node: ast.AST) -> bool:
    if isinstance(node, ast.Compare):
        return True
    if isinstance(node, ast.Constant):
        return isinstance(node.value, bool)
    if isinstance(node, ast.BoolOp):
        return all(_is_condition(value) for value in node.values)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.Invert):
        return _is_condition(node.operand)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitAnd | ast.BitOr):
        return _is_condition(node.left) and _is_condition(node.right)
    return False


def evaluate_expression(tree: ast.Expression, columns: Mapping[str, np.ndarray]):
    """The value of a checked expression on ``columns`` (arrays of equal length)."""
    return _evaluate(tree.body, columns)


def evaluate_object_expression(tree: ast.Expression, branches: Mapping, fill_value: float):
    """The per-event values of a checked ``objects`` expression on awkward ``branches``:
    a flat NumPy array, ``fill_value`` where a pick or reduction found no object.

    Raises :class:`ExpressionError` when the result is still a list per event."""
    import awkward as ak

    value = _evaluate(tree.body, branches, _ObjectContext(fill_value))
    length = len(next(iter(branches.values())))
    if not isinstance(value, ak.Array):
        return np.full(length, value)
    if value.ndim > 1:
        raise ExpressionError(
            "gives a list per event, not one value; pick an object ([:, 0]) or reduce the "
            "list (ak.sum(..., axis=1), ak.num(...))"
        )
    if len(value) != length:
        raise ExpressionError(
            f"gives {len(value)} values for {length} events: a mask such as [MET_pt > 100] "
            "selects events here; mask objects inside a reduction (ak.num(Jet_pt[Jet_pt > 30]))"
            " and select events with the process's `selection`"
        )
    return np.asarray(ak.to_numpy(ak.fill_none(value, fill_value)))


def expression_names(tree: ast.Expression) -> list[str]:
    """The column names an expression uses, in order of appearance."""
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    called |= _awkward_names(tree)
    nodes = [
        node for node in ast.walk(tree) if isinstance(node, ast.Name) and id(node) not in called
    ]
    nodes.sort(key=lambda node: (node.lineno, node.col_offset))
    return list(dict.fromkeys(node.id for node in nodes))


def _check_node(
    node: ast.AST,
    text: str,
    names: Collection[str],
    what: str,
    called: set[int],
    texts: Collection[int] = (),
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
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in texts:
        raise ExpressionError(
            f"{what} {text!r}: the text {node.value!r} at column {node.col_offset + 1} is not "
            f"allowed: only {', '.join(TEXT_COLUMNS)} is text (compare it with == or !=); "
            "the variables are numbers, compare them with numbers"
        )
    if isinstance(node, ast.Constant) and not isinstance(node.value, int | float | str):
        raise ExpressionError(f"{what} {text!r}: the constant {node.value!r} is not allowed")
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        _bounded_power(node, text, what)
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
    if isinstance(node, ast.Name) and names is not None and node.id not in names:
        raise ExpressionError(
            f"{what} {text!r}: unknown name {node.id!r}; it may use {', '.join(names)}"
        )


#: The largest exponent a constant power may have: beyond it a constant cannot be
#: computed in bounded time (integers) or overflows (floats).
MAX_CONSTANT_EXPONENT = 1000


def _bounded_power(node: ast.BinOp, text: str, what: str) -> None:
    """A power whose exponent is a constant must have a moderate one (``9**9**9`` would
    take Python minutes and gigabytes to compute)."""
    exponent = _constant_value(node.right)
    if exponent is not None and abs(exponent) > MAX_CONSTANT_EXPONENT:
        raise ExpressionError(
            f"{what} {text!r}: the power {_segment(node, text)!r} has the exponent "
            f"{exponent:.6g}, more than {MAX_CONSTANT_EXPONENT}: it cannot be computed; "
            "write the number it means"
        )


def _constant_value(node: ast.AST) -> float | None:
    """The value of a subexpression made of numbers only, computed in floating point
    with every power's exponent checked first; None where it uses a variable."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _constant_value(node.operand)
        return None if value is None else (-value if isinstance(node.op, ast.USub) else value)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _constant_value(node.left), _constant_value(node.right)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_CONSTANT_EXPONENT:
            return right  # refused by the check of this power
        with np.errstate(all="ignore"):
            return float(_BINARY[type(node.op)](np.float64(left), np.float64(right)))
    return None


class _ObjectContext:
    """How picks, masks and reductions evaluate on awkward arrays."""

    def __init__(self, fill_value: float):
        self.fill_value = fill_value

    def subscript(self, node: ast.Subscript, columns):
        import awkward as ak

        array = _evaluate(node.value, columns, self)
        if isinstance(node.slice, ast.Tuple):
            index = node.slice.elts[1].value
            return ak.fill_none(ak.firsts(array[:, index : index + 1], axis=1), self.fill_value)
        return array[_evaluate(node.slice, columns, self)]

    def reduce(self, node: ast.Call, columns):
        import awkward as ak

        axis = next((keyword.value.value for keyword in node.keywords), 1)
        argument = _evaluate(node.args[0], columns, self)
        return getattr(ak, node.func.attr)(argument, axis=axis)


def _evaluate(node: ast.AST, columns: Mapping[str, np.ndarray], objects=None):
    if isinstance(node, ast.Constant):
        # numbers as floats: arithmetic on them is bounded (9**9**9 is inf, not a
        # day of big-integer work), and columns are floats anyway
        if isinstance(node.value, int | float) and not isinstance(node.value, bool):
            return np.float64(node.value)
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in columns:
            raise ExpressionError(f"unknown name {node.id!r}")
        return columns[node.id] if objects else np.asarray(columns[node.id])
    if isinstance(node, ast.Subscript):
        return objects.subscript(node, columns)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return objects.reduce(node, columns)
    if isinstance(node, ast.BoolOp):
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        values = [_evaluate(value, columns, objects) for value in node.values]
        result = values[0]
        for value in values[1:]:
            result = combine(result, value)
        return result
    if isinstance(node, ast.BinOp):
        left = _evaluate(node.left, columns, objects)
        return _BINARY[type(node.op)](left, _evaluate(node.right, columns, objects))
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_evaluate(node.operand, columns, objects))
    if isinstance(node, ast.Compare):
        left = _evaluate(node.left, columns, objects)
        result = None
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _evaluate(comparator, columns, objects)
            outcome = _COMPARE[type(op)](left, right)
            result = outcome if result is None else np.logical_and(result, outcome)
            left = right
        return result
    if isinstance(node, ast.Call):
        return FUNCTIONS[node.func.id](_evaluate(node.args[0], columns, objects))
    raise ExpressionError(f"{type(node).__name__} is not allowed")


def _awkward_names(tree: ast.Expression) -> set[int]:
    """The ``ak`` names and attributes of ``ak.<reduction>(…)`` calls (checked with it)."""
    parts = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            parts |= {id(node.func), id(node.func.value)}
    return parts


def _check_object_node(node: ast.AST, text: str, what: str, called: set[int]) -> bool:
    """Check a construct only ``objects`` expressions allow; False if ``node`` is none."""
    if isinstance(node, ast.Subscript):
        index = node.slice
        is_mask = not isinstance(index, ast.Tuple | ast.Slice | ast.Constant)
        if not (is_mask or isinstance(index, ast.Tuple) and _is_pick(index)):
            raise ExpressionError(
                f"{what} {text!r}: the subscript {_segment(node, text)!r} is not allowed; pick "
                "one object with [:, 0] (a non-negative number) or mask with [Jet_pt > 30]"
            )
        return True
    if isinstance(node, ast.Tuple) or isinstance(node, ast.Slice):
        return True  # part of a pick, checked with its subscript
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        function = node.func
        if not (
            isinstance(function.value, ast.Name)
            and function.value.id == "ak"
            and function.attr in AWKWARD_REDUCTIONS
        ):
            raise ExpressionError(
                f"{what} {text!r}: the call {_segment(function, text)!r} is not allowed; the "
                f"reductions are ak.{', ak.'.join(AWKWARD_REDUCTIONS)}"
            )
        axis_only = all(
            keyword.arg == "axis"
            and isinstance(keyword.value, ast.Constant)
            and type(keyword.value.value) is int
            for keyword in node.keywords
        )
        if len(node.args) != 1 or not axis_only:
            raise ExpressionError(
                f"{what} {text!r}: ak.{function.attr}() takes one array and optionally "
                "axis=<number>"
            )
        return True
    if isinstance(node, ast.keyword) or isinstance(node, ast.Attribute) and id(node) in called:
        return True  # the function or axis of an ak call, checked with the call
    return False


def _is_pick(index: ast.Tuple) -> bool:
    if len(index.elts) != 2:
        return False
    whole, position = index.elts
    return (
        isinstance(whole, ast.Slice)
        and whole.lower is whole.upper is whole.step is None
        and isinstance(position, ast.Constant)
        and type(position.value) is int
        and position.value >= 0
    )


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
