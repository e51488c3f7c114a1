"""The cost of one multi-head attention as PyTorch's CPU path runs it, for the attention kinds.

Batch-first inputs are transposed to time-major and projected: a contiguous copy of each for
the weights' gradient. Without dropout, the fused kernel keeps the projected q, k and v, its
output and a log-sum-exp per head and query; with dropout, the reference path keeps scaled q and
k, the attention weights, the dropout noise, the dropped weights and v. Sizes are in elements,
per sample.
"""

from __future__ import annotations

from nnspec.kinds.base import Shape
from nnspec.kinds.cost import BYTES, Flow, Saved, elements, nbytes, size
from nnspec.record import record


@record(eq=False)
class Source:
    """A tensor the attention projects: which of the layer's inputs it is (None: one the layer
    computed itself), its length and width, and whether it is laid out time-major already (a
    recurrent layer's or an attention's output), so that transposing it needs no copy."""

    input: int | None
    length: int
    width: int
    time_major: bool = False


@record
class Attention:
    """One attention: query, key and value sources (the same Source object when shared)."""

    query: Source
    key: Source
    value: Source
    embed: int
    heads: int
    dropout: float
    extra_keys: int = 0  # add_bias_kv and add_zero_attn: key positions appended after projecting

    @property
    def packed(self) -> bool:
        """One in-projection weight for q, k and v (kdim and vdim equal embed_dim)."""
        return self.key.width == self.embed and self.value.width == self.embed

    @property
    def keys(self) -> int:
        return self.key.length + self.extra_keys

    def projections(self) -> tuple[int, int, int, int]:
        """Forward FLOPs of the q, k, v and output projections."""
        e = self.embed
        q, k, v = self.query, self.key, self.value
        return 2 * q.length * q.width * e, 2 * k.length * k.width * e, 2 * v.length * v.width * e, 2 * q.length * e * e

    def products(self) -> int:
        """Forward FLOPs of q k^T and of the weights times v."""
        return 2 * 2 * self.query.length * self.keys * self.embed

    def flops(self) -> int:
        return sum(self.projections()) + self.products()

    def backward(self, needs: dict, params: bool) -> int:
        """`needs`: Source -> whether it needs a gradient. Every tensor after the projections does."""
        q, k, v, out = self.projections()
        data = q * needs[self.query] + k * needs[self.key] + v * needs[self.value] + out
        return (q + k + v + out) * params + data + 2 * self.products()

    def saved(self, params: bool) -> Saved:
        kept = self._copies() if params else Saved()
        own = self._fused() if self.dropout == 0 else self._reference(params)
        zero = BYTES["float"] * (self.dropout == 1)  # dropout 1 multiplies by a 0-d zero, not noise
        return kept + Saved(own=own * BYTES["float"], fixed=zero)

    def _copies(self) -> Saved:
        """The time-major copies the in-projections keep: one per distinct source (k and v apart
        when their weights are)."""
        sources = [self.query]
        if self.key is not self.query:
            sources.append(self.key)
        if self.value is not self.key or (not self.packed and self.value is not self.query):
            sources.append(self.value)
        kept = Saved()
        for s in sources:  # a one-step or time-major sequence transposes into a view of the input itself
            view = (s.length == 1 or s.time_major) and s.input is not None
            kept += Saved(inputs=(s.input,)) if view else Saved(own=s.length * s.width * BYTES["float"])
        return kept

    def _storages(self) -> tuple[int, int, int]:
        """Elements of the tensors q, k and v live in, 0 where one shares the previous one's."""
        e, tq, tk = self.embed, self.query.length, self.key.length
        if self.packed and self.query is self.key is self.value:
            q, k, v = 3 * tq * e, 0, 0
        elif self.packed and self.key is self.value:
            q, k, v = tq * e, 2 * tk * e, 0
        else:
            q, k, v = tq * e, tk * e, tk * e
        if self.extra_keys:  # concatenated: new tensors replace the projected k and v
            k, v = self.keys * e, self.keys * e
        return q, k, v

    def _fused(self) -> int:
        tq = self.query.length
        return sum(self._storages()) + tq * self.embed + self.heads * tq  # ... output and log-sum-exp

    def _reference(self, params: bool) -> int:
        q, k, v = self._storages()
        if not self.extra_keys and self.packed and self.key is self.value:
            v = q + k if self.key is self.query else k  # v is a view into the packed projection
        tq, e = self.query.length, self.embed
        weights = (2 + (self.dropout < 1)) * self.heads * tq * self.keys  # softmax, dropout noise, dropped weights
        return tq * e + self.keys * e + weights + v + tq * e * params  # ... and the output projection's input


def scaled_dot_product_saved(q: Shape, k: Shape, v: Shape, dropout: float, flow: Flow) -> Saved:
    """What the CPU's scaled_dot_product_attention keeps. The fused kernel (every input at least
    (N, heads, L, E), contiguous, one width, no dropout) keeps q, k, v, its output and a log-sum-exp
    per query; the reference path keeps scaled copies of q (for k's gradient) and k (for q's), the
    softmax (L, S) per query row, v, and with dropout its noise and the dropped weights."""
    rows, keys, f = elements(q) // size(q.dims[-1]), size(k.dims[-2]), BYTES["float"]
    fused = min(s.rank for s in (q, k, v)) >= 3 and q.dims[-1] == v.dims[-1] and dropout == 0
    if fused and all(flow.contiguous(i) for i in range(3)):
        return Saved(inputs=(0, 1, 2), output=True, own=rows * f)
    gq, gk, gv = flow.grads
    scores, weights = gq or gk, rows * keys * f
    drops = 0 < dropout < 1
    own = nbytes(q) * gk + nbytes(k) * gq + weights * (scores or (gv and not drops))
    own += weights * drops * (scores + gv)  # the noise for the scores' gradient, the dropped weights for v's
    return Saved(inputs=(2,) if scores else (), own=own, fixed=f * (dropout == 1))
