"""Attention over sequences (T, E), batch first or (T, N, E): MultiheadAttention, the Transformer
encoder and decoder layers, and scaled dot-product attention over heads (N, H, T, E)."""

from __future__ import annotations

from nnspec.kinds.base import Example, Shape, ShapeError
from nnspec.kinds.cost import BYTES, Flow, Saved, elements, size
from nnspec.kinds.layer import LAYERS, Layer, feature_dim
from nnspec.kinds.layers.attention_cost import Attention, Source, scaled_dot_product_saved
from nnspec.kinds.params import Bool, Float, Int, Optional, Param, Str
from nnspec.kinds.pysrc import src


def _heads_divide(embed: int, heads: int, arg: str) -> None:
    if embed % heads:
        raise ShapeError("E307", f"embedding size {embed} must be divisible by the {heads} heads", arg=arg)


def _steps(shape: Shape) -> int:
    """The sequence length where known; 1 for a symbolic one (MACs count what they can)."""
    return shape.dims[0] if isinstance(shape.dims[0], int) else 1


def causal_mask(query: str, key: str, batch_first=True) -> str:
    """A boolean (Tq, Tk) mask, True above the diagonal: no step attends to a later one."""
    steps = {True: "1", False: "0"}.get(batch_first, f"1 if {src(batch_first)} else 0")  # the time dim
    return f"torch.ones({query}.size({steps}), {key}.size({steps}), dtype=torch.bool, device={query}.device).triu(1)"


def causal_keywords(flag, mask: str, hint: str, query: str, key: str, batch_first=True) -> list[str]:
    """`mask=<causal mask>, hint=True` for forward; `flag` is a literal or a block parameter's code."""
    if flag is False:
        return []
    made = causal_mask(query, key, batch_first)
    if flag is True:
        return [f"{mask}={made}", f"{hint}=True"]
    return [f"{mask}={made} if {src(flag)} else None", f"{hint}={src(flag)}"]


def _batch_first(ins: list[Shape], what: str) -> bool:
    """PyTorch's batch_first for the input's layout: (N, T, E) or (T, N, E)."""
    if ins[0].batch not in (0, 1):
        raise ShapeError("E402", f"{what} takes (N, T, E) or (T, N, E), got {ins[0]}")
    return ins[0].batch == 0


def _batch_first_param() -> Param:
    return Param("batch_first", Bool(), False, inferred=True, doc="from the input: (N, T, E) or (T, N, E)")


def _attention_weights(e: int, k: int, v: int, bias: bool, bias_kv: bool = False, prefix: str = "") -> dict:
    """nn.MultiheadAttention's parameters: one packed input projection when key and value are as wide as the query."""
    found = (
        {"in_proj_weight": (3 * e, e)}
        if k == v == e
        else {"q_proj_weight": (e, e), "k_proj_weight": (e, k), "v_proj_weight": (e, v)}
    )
    if bias:
        found["in_proj_bias"] = (3 * e,)
    if bias_kv:
        found.update(bias_k=(1, 1, e), bias_v=(1, 1, e))
    found["out_proj.weight"] = (e, e)
    if bias:
        found["out_proj.bias"] = (e,)
    return {prefix + name: shape for name, shape in found.items()}


def _causal(name: str) -> Param:
    return Param(name, Bool(), False, forward=True, doc="mask later steps (a mask built from the sequence length)")


@LAYERS.register
class MultiheadAttention(Layer):
    """Self-attention on one input; cross-attention on (query, key and value) or (query, key, value)."""

    name, torch_class, ranks = "MultiheadAttention", "nn.MultiheadAttention", (2,)
    arity = (1, 2, 3)
    any_layout = True
    params = (
        Param("embed_dim", Int(1), inferred=True),
        Param("num_heads", Int(1)),
        Param("dropout", Float(0, 1), 0.0),
        Param("bias", Bool(), True),
        Param("add_bias_kv", Bool(), False),
        Param("add_zero_attn", Bool(), False),
        Param("kdim", Optional(Int(1)), None, inferred=True),
        Param("vdim", Optional(Int(1)), None, inferred=True),
        _batch_first_param(),
        _causal("is_causal"),
    )
    examples = (
        Example({"num_heads": 4}, ((6, 16),)),
        Example({"num_heads": 2, "bias": False, "add_bias_kv": True}, ((3, 8),)),
        Example({"num_heads": 2, "is_causal": True}, ((5, 8),)),
        Example({"num_heads": 2}, ((5, 8), (7, 3))),
        Example({"num_heads": 4, "is_causal": True, "add_zero_attn": True}, ((4, 8), (6, 8), (6, 5))),
        Example({"num_heads": 2, "is_causal": True}, ((5, 8),), batches=(1,)),
    )

    def derive(self, ins):
        embed = feature_dim(ins[0], self.name)
        key, value = ins[1] if len(ins) > 1 else ins[0], ins[-1]
        dims = {"kdim": feature_dim(key, self.name), "vdim": feature_dim(value, self.name)}
        # PyTorch's own default for a size equal to embed_dim is none
        sizes = {k: None if d == embed else d for k, d in dims.items()}
        return {"embed_dim": embed, **sizes, "batch_first": _batch_first(ins, self.name)}

    def matches(self, name, written, derived, ins):
        if name in ("kdim", "vdim"):
            return written == derived or (derived is None and written == feature_dim(ins[0], self.name))
        return written == derived

    def infer(self, args, ins):
        _heads_divide(args["embed_dim"], args["num_heads"], "num_heads")
        key, value = ins[1] if len(ins) > 1 else ins[0], ins[-1]
        if key.dims[0] != value.dims[0]:
            raise ShapeError("E404", f"MultiheadAttention: key {key} and value {value} need the same length")
        return ins[0]

    def _sizes(self, args) -> tuple[int, int, int]:
        e = args["embed_dim"]
        return e, args["kdim"] or e, args["vdim"] or e

    def parameters(self, args):
        return _attention_weights(*self._sizes(args), args["bias"], args["add_bias_kv"])

    def macs(self, args, ins, out):
        e, k, v = self._sizes(args)
        tq, tk = _steps(ins[0]), _steps(ins[-1])
        return 2 * tq * e * e + tk * e * (k + v) + 2 * tq * tk * e

    def _attention(self, args, ins, flow: Flow | None = None) -> Attention:
        """Self-attention when one tensor is passed for all three; key and value one source when
        they are one tensor."""
        e, kdim, vdim = self._sizes(args)
        shared = flow.shared if flow is not None else (lambda i, j: i == j)

        def source(at: int, width: int) -> Source:
            return Source(at, size(ins[at].dims[0]), width, flow is not None and flow.time_major(at))

        q = source(0, e)
        k_at, v_at = (1 if len(ins) > 1 else 0), len(ins) - 1
        if shared(k_at, 0) and shared(v_at, 0):
            return Attention(q, q, q, e, args["num_heads"], args["dropout"], self._extra(args))
        k = source(k_at, kdim)  # PyTorch transposes each apart unless key is value
        v = k if shared(v_at, k_at) else source(v_at, vdim)
        return Attention(q, k, v, e, args["num_heads"], args["dropout"], self._extra(args))

    def _extra(self, args) -> int:
        return bool(args["add_bias_kv"]) + bool(args["add_zero_attn"])

    def flops(self, args, ins, out):
        return self._attention(args, ins).flops()  # the keys add_bias_kv and add_zero_attn append too

    def backward_flops(self, args, ins, out, flow):
        a = self._attention(args, ins, flow)
        needs = {s: flow.grads[s.input] for s in (a.query, a.key, a.value)}
        return a.backward(needs, flow.params)

    def saved(self, args, ins, out, flow):
        return self._attention(args, ins, flow).saved(flow.params)

    def layout(self, args, ins):
        return "time-major" if size(ins[0].dims[0]) > 1 else "new"

    def largest(self, args, ins):
        e, k, v = self._sizes(args)
        return 3 * e * e if k == v == e else e * max(e, k, v)

    def forward(self, module, inputs, args):
        q = inputs[0]
        k, v = (q, q) if len(inputs) == 1 else (inputs[1], inputs[-1])
        mask = causal_keywords(args["is_causal"], "attn_mask", "is_causal", q, k, args["batch_first"])
        return f"{module}({', '.join([q, k, v, 'need_weights=False', *mask])})[0]"


def _transformer_params(causal: str) -> tuple[Param, ...]:
    return (
        Param("d_model", Int(1), inferred=True),
        Param("nhead", Int(1)),
        Param("dim_feedforward", Int(1), 2048),
        Param("dropout", Float(0, 1), 0.1),
        Param("activation", Str(("relu", "gelu")), "relu"),
        Param("layer_norm_eps", Float(0, lo_open=True), 1e-05),
        _batch_first_param(),
        Param("norm_first", Bool(), False),
        Param("bias", Bool(), True),
        _causal(causal),
    )


class _Transformer(Layer):
    ranks = (2,)
    any_layout = True

    def derive(self, ins):
        return {"d_model": feature_dim(ins[0], self.name), "batch_first": _batch_first(ins, self.name)}

    def infer(self, args, ins):
        _heads_divide(args["d_model"], args["nhead"], "nhead")
        return ins[0]

    def _weights(self, args, attentions: tuple[str, ...], norms: int) -> dict:
        e, f, bias = args["d_model"], args["dim_feedforward"], args["bias"]
        found = {}
        for prefix in attentions:
            found.update(_attention_weights(e, e, e, bias, prefix=prefix + "."))
        for name, shape in (("linear1", (f, e)), ("linear2", (e, f))):
            found[f"{name}.weight"] = shape
            if bias:
                found[f"{name}.bias"] = shape[:1]
        for i in range(1, norms + 1):
            found[f"norm{i}.weight"] = (e,)
            if bias:
                found[f"norm{i}.bias"] = (e,)
        return found

    def largest(self, args, ins):
        return args["d_model"] * max(3 * args["d_model"], args["dim_feedforward"])

    def _self_attention(self, args, steps: int, flow: Flow) -> Attention:
        """Over the layer's input, or (norm_first) over its normalised copy."""
        if args["norm_first"]:
            x = Source(None, steps, args["d_model"])
        else:
            x = Source(0, steps, args["d_model"], flow.time_major(0))
        return Attention(x, x, x, args["d_model"], args["nhead"], args["dropout"])

    def _norms(self, args, steps: int, count: int) -> int:
        """Elements `count` layer norms keep (input, mean and 1/std per step); with norm_first the
        first normalises the layer's input, which is kept as it is."""
        return count * (steps * args["d_model"] + 2 * steps) - steps * args["d_model"] * bool(args["norm_first"])

    def _dropouts(self, args, steps: int, count: int) -> int:
        """Elements of the noise of `count` dropouts over (T, E) and the feed-forward's over (T, F)."""
        return (count * steps * args["d_model"] + steps * args["dim_feedforward"]) * (0 < args["dropout"] < 1)

    def _feedforward_kept(self, args, steps: int, params: bool) -> int:
        """linear1's input, the activation's input (gelu) or output (relu), linear2's input
        (relu's output itself when there is no dropout)."""
        e, f = args["d_model"], args["dim_feedforward"]
        second = f if args["dropout"] > 0 or args["activation"] == "gelu" else 0
        return steps * (f + (e + second) * params)

    def _feedforward_backward(self, args, steps: int, params: bool) -> int:
        return 2 * 2 * steps * args["d_model"] * args["dim_feedforward"] * (1 + params)

    def _saved(self, args, attentions, steps: int, layers: int, params: bool) -> Saved:
        kept = Saved(inputs=(0,)) if args["norm_first"] else Saved()
        for a in attentions:
            kept += a.saved(params)
        own = (
            self._norms(args, steps, layers)
            + self._dropouts(args, steps, layers)
            + self._feedforward_kept(args, steps, params)
        )
        zeros = (layers + 1) * BYTES["float"] * (args["dropout"] == 1)  # dropout 1: a 0-d zero each, not noise
        return kept + Saved(own=own * BYTES["float"], fixed=zeros)


@LAYERS.register
class TransformerEncoderLayer(_Transformer):
    name, torch_class = "TransformerEncoderLayer", "nn.TransformerEncoderLayer"
    params = _transformer_params("is_causal")
    examples = (
        Example({"nhead": 4, "dim_feedforward": 32}, ((5, 16),)),
        Example({"nhead": 2, "dim_feedforward": 8, "bias": False, "norm_first": True, "activation": "gelu"}, ((3, 6),)),
        Example({"nhead": 2, "dim_feedforward": 8, "is_causal": True}, ((4, 6),)),
        Example({"nhead": 2, "dim_feedforward": 8, "is_causal": True}, ((4, 6),), batches=(1,)),
    )

    def parameters(self, args):
        return self._weights(args, ("self_attn",), 2)

    def macs(self, args, ins, out):
        t = _steps(ins[0])
        e, f = args["d_model"], args["dim_feedforward"]
        return t * (4 * e * e + 2 * e * f) + 2 * t * t * e

    def backward_flops(self, args, ins, out, flow):
        t = size(ins[0].dims[0])
        a = self._self_attention(args, t, flow)
        needs = {a.query: args["norm_first"] or flow.grads[0]}
        return a.backward(needs, flow.params) + self._feedforward_backward(args, t, flow.params)

    def saved(self, args, ins, out, flow):
        t = size(ins[0].dims[0])
        return self._saved(args, [self._self_attention(args, t, flow)], t, 2, flow.params)

    def forward(self, module, inputs, args):
        x = inputs[0]
        mask = causal_keywords(args["is_causal"], "src_mask", "is_causal", x, x, args["batch_first"])
        return f"{module}({', '.join([x, *mask])})"


@LAYERS.register
class TransformerDecoderLayer(_Transformer):
    """Self-attention over the target (T, E), then attention to the memory (S, E), then a feed-forward."""

    name, torch_class, arity = "TransformerDecoderLayer", "nn.TransformerDecoderLayer", 2
    params = _transformer_params("tgt_is_causal")
    examples = (
        Example({"nhead": 4, "dim_feedforward": 32}, ((5, 16), (7, 16))),
        Example({"nhead": 2, "dim_feedforward": 8, "tgt_is_causal": True, "norm_first": True}, ((4, 6), (3, 6))),
    )

    def infer(self, args, ins):
        memory = feature_dim(ins[1], self.name)
        if memory != args["d_model"]:
            raise ShapeError(
                "E404", f"TransformerDecoderLayer: the memory {ins[1]} needs width d_model={args['d_model']}"
            )
        return super().infer(args, ins)

    def parameters(self, args):
        return self._weights(args, ("self_attn", "multihead_attn"), 3)

    def macs(self, args, ins, out):
        t, s = _steps(ins[0]), _steps(ins[1])
        e, f = args["d_model"], args["dim_feedforward"]
        attention = 4 * t * e * e + 2 * t * t * e
        cross = 2 * t * e * e + 2 * s * e * e + 2 * t * s * e
        return attention + cross + 2 * t * e * f

    def _cross_attention(self, args, steps: int, memory: int, flow: Flow) -> Attention:
        q, m = Source(None, steps, args["d_model"]), Source(1, memory, args["d_model"], flow.time_major(1))
        return Attention(q, m, m, args["d_model"], args["nhead"], args["dropout"])

    def backward_flops(self, args, ins, out, flow):
        t, s = size(ins[0].dims[0]), size(ins[1].dims[0])
        own, cross = self._self_attention(args, t, flow), self._cross_attention(args, t, s, flow)
        flops = own.backward({own.query: args["norm_first"] or flow.grads[0]}, flow.params)
        flops += cross.backward({cross.query: True, cross.key: flow.grads[1]}, flow.params)
        return flops + self._feedforward_backward(args, t, flow.params)

    def saved(self, args, ins, out, flow):
        t, s = size(ins[0].dims[0]), size(ins[1].dims[0])
        attentions = [self._self_attention(args, t, flow), self._cross_attention(args, t, s, flow)]
        return self._saved(args, attentions, t, 3, flow.params)

    def forward(self, module, inputs, args):
        tgt, memory = inputs
        mask = causal_keywords(args["tgt_is_causal"], "tgt_mask", "tgt_is_causal", tgt, tgt, args["batch_first"])
        return f"{module}({', '.join([tgt, memory, *mask])})"


@LAYERS.register
class ScaledDotProductAttention(Layer):
    """softmax(q @ k^T * scale) @ v over the last two dims: (..., L, E), (..., S, E), (..., S, Ev) -> (..., L, Ev)."""

    name, arity = "ScaledDotProductAttention", 3
    params = (
        Param("dropout_p", Float(0, 1), 0.0, doc="while training; none in eval mode"),
        Param("is_causal", Bool(), False),
        Param("scale", Optional(Float(0, lo_open=True)), None),
    )
    examples = (
        Example({}, ((2, 5, 4), (2, 7, 4), (2, 7, 3))),
        Example({"is_causal": True}, ((3, 6, 8), (3, 6, 8), (3, 6, 8))),
        Example({"scale": 0.5}, ((4, 2), (6, 2), (6, 5))),
    )

    def infer(self, args, ins):
        q, k, v = ins
        if min(s.rank for s in ins) < 2:
            raise ShapeError("E402", f"{self.name} needs a sequence per sample, (N, ..., L, E), got {q}, {k}, {v}")
        if not q.dims[:-2] == k.dims[:-2] == v.dims[:-2]:
            raise ShapeError(
                "E404", f"{self.name}: query, key and value need the same dims before the last two, got {q}, {k}, {v}"
            )
        if q.dims[-1] != k.dims[-1] or k.dims[-2] != v.dims[-2]:
            raise ShapeError(
                "E404",
                f"{self.name}: the query and key need one width and the key and value one length, got {q}, {k}, {v}",
            )
        return q.with_dims((*q.dims[:-1], v.dims[-1]))

    def macs(self, args, ins, out):
        q, k, v = ins
        lead = (q.numel() or 0) // q.dims[-1] if isinstance(q.dims[-1], int) else 0  # query positions
        steps, width = k.dims[-2], v.dims[-1]
        if not all(isinstance(d, int) for d in (steps, width, q.dims[-1])):
            return 0
        return lead * steps * (q.dims[-1] + width)

    def backward_flops(self, args, ins, out, flow):
        """q's or k's gradient needs the scores' (one product with v), v's the weights' product."""
        q, k, v = ins
        scores, values = (2 * elements(q) // size(q.dims[-1]) * size(k.dims[-2]) * size(s.dims[-1]) for s in (q, v))
        gq, gk, gv = flow.grads
        return scores * (gq + gk) + values * ((gq or gk) + gv)

    def saved(self, args, ins, out, flow):
        return scaled_dot_product_saved(*ins, args["dropout_p"], flow)

    def forward(self, module, inputs, args):
        keywords = []
        p = args["dropout_p"]
        if p != 0.0:  # PyTorch's function drops out in eval mode too: only while training here
            keywords.append(f"dropout_p={src(p)} if self.training else 0.0")
        keywords += [f"{k}={src(args[k])}" for k in ("is_causal", "scale") if args[k] != self.param(k).default]
        return f"nn.functional.scaled_dot_product_attention({', '.join([*inputs, *keywords])})"
