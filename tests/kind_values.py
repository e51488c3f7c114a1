"""Legal argument values drawn from a parameter's declared type, its bounds included (tests only).

A kind accepts every value its types accept, so PyTorch must accept each of them too: the
bounds are where the two disagree (a beta of exactly 1, a factor of 1, an int where a float
is wanted).
"""

from __future__ import annotations

from nnspec.kinds.params import Anything, Bool, Float, Int, OneOf, Optional, Seq, Str

SEQ_LEN = 3  # a list of unfixed length is as long as the oracle's class count


def legal_values(t) -> list:
    """A few values `t` accepts, each checked against `t` itself."""
    values = _candidates(t)
    assert values, f"no legal value for {t}"
    for v in values:
        assert t.check(v) is None, f"{v!r} is not legal for {t}"
    return values


def _candidates(t) -> list:
    if isinstance(t, Int):
        return _ints(t)
    if isinstance(t, Float):
        return _floats(t)
    if isinstance(t, Bool):
        return [False, True]
    if isinstance(t, Str):
        return list(t.choices) if t.choices else ["x"]
    if isinstance(t, Seq):
        n = t.n or max(t.min_len, SEQ_LEN)
        items = legal_values(t.item)
        ints = [v for v in items if isinstance(v, int) and not isinstance(v, bool)][:1]  # `weight = [1, 2, 1]`
        return [[v] * n for v in _unique(items[:2] + ints)]
    if isinstance(t, OneOf):
        return [v for option in t.options for v in legal_values(option)]
    if isinstance(t, Optional):
        return [None, *legal_values(t.inner)]
    if isinstance(t, Anything):
        return [1]
    raise TypeError(f"no values for {t}")


def _ints(t: Int) -> list:
    lo = t.lo if t.lo is not None else (t.hi - 3 if t.hi is not None else 0)
    hi = t.hi if t.hi is not None else lo + 3
    return _unique([lo, lo + 1, hi])


def _floats(t: Float) -> list:
    """Both bounds (an open one approached), a value inside, and the integral ones as ints too."""
    lo = t.lo if t.lo is not None else -1.0
    hi = t.hi if t.hi is not None else max(lo, 0.0) + 2.0
    near = (hi - lo) * 1e-3  # an open bound approached
    floats = [hi - near if t.hi_open else hi, (lo + hi) / 2, lo + near if t.lo_open else lo]
    ints = [int(v) for v in floats if float(v).is_integer()]  # Float takes ints: `pct_start = 0`
    return _unique([float(v) for v in floats] + ints)


def _unique(values: list) -> list:
    out = []
    for v in values:
        if not any(v == u and type(v) is type(u) for u in out):
            out.append(v)
    return out
