"""Evaluate value expressions: literals, lists, dicts, block parameters and arithmetic on them."""

from __future__ import annotations

import math

from nnspec.compiler import ast
from nnspec.compiler.ir import ArgValue, CallValue, Ref


class ValueProblem(Exception):
    def __init__(self, code: str, message: str, span, help: str | None = None):
        super().__init__(message)
        self.code, self.message, self.span, self.help = code, message, span, help


_OPS = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "//": lambda a, b: a // b,
}


def evaluate(expr, env: dict, refs: bool = False):
    """`env`: block parameters. With `refs`, bare names become Ref and calls CallValue (settings)."""
    if isinstance(expr, ast.Const):
        return expr.value
    if isinstance(expr, ast.ListExpr):
        return [evaluate(e, env, refs) for e in expr.items]
    if isinstance(expr, ast.DictExpr):
        return {k: evaluate(v, env, refs) for k, v in expr.items}
    if isinstance(expr, ast.Name):
        if expr.id in env:
            return env[expr.id]
        if refs:
            return Ref(expr.id, expr.span)
        raise ValueProblem("E201", f"undefined name `{expr.id}`", expr.span)
    if isinstance(expr, ast.Neg):
        return _arith("-", 0, evaluate(expr.operand, env, refs), expr.span)
    if isinstance(expr, ast.BinOp):
        return _arith(expr.op, evaluate(expr.left, env, refs), evaluate(expr.right, env, refs), expr.span)
    if isinstance(expr, ast.Call) and refs:
        return CallValue(expr.name, tuple(arg_values(expr.args, env, refs)), expr.span, expr.name_span)
    raise ValueProblem("E303", "expected a number, string, boolean or list here", expr.span)


def arg_values(args, env: dict, refs: bool = False) -> list[ArgValue]:
    return [ArgValue(a.name, evaluate(a.value, env, refs), a.span) for a in args]


def _arith(op: str, a, b, span):
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b))
    if op not in _OPS:  # `@` multiplies tensors only
        raise ValueProblem("E303", f"`{op}` is not defined between numbers", span)
    if not numeric:
        raise ValueProblem("E303", f"`{op}` needs two numbers, got {a!r} and {b!r}", span)
    if op in ("/", "//") and b == 0:
        raise ValueProblem("E304", "division by zero", span)
    try:
        value = _OPS[op](a, b)
    except OverflowError:
        raise ValueProblem("E106", "number too large", span) from None
    if (isinstance(value, float) and not math.isfinite(value)) or (isinstance(value, int) and abs(value) > 10**30):
        raise ValueProblem("E106", "number too large", span)
    return value
