"""Attention over batch-first sequences (T, E): MultiheadAttention, Transformer encoder and decoder layers."""

from __future__ import annotations

from nnspec.kinds.base import Example, Shape, ShapeError
from nnspec.kinds.cost import BYTES, Flow, Saved, size
from nnspec.kinds.layer import LAYERS, Layer, feature_dim
from nnspec.kinds.layers.attention_cost import Attention, Source
from nnspec.kinds.params import Bool, Float, Int, Optional, Param, Str
from nnspec.kinds.pysrc import src


def _heads_divide(embed: int, heads: int, arg: str) -> None:
    if embed % heads:
        raise ShapeError("E307", f"embedding size {embed} must be divisible by the {heads} heads", arg=arg)


def _steps(shape: Shape) -> int:
    """The sequence length where known; 1 for a symbolic one (MACs count what they can)."""
    return shape.dims[0] if isinstance(shape.dims[0], int) else 1


def causal_mask(query: str, key: str) -> str:
    """A boolean (Tq, Tk) mask, True above the diagonal: no step attends to a later one."""
    return f"torch.ones({query}.size(1), {key}.size(1), dtype=torch.bool, device={query}.device).triu(1)"


def causal_keywords(flag, mask: str, hint: str, query: str, key: str) -> list[str]:
    """`mask=<causal mask>, hint=True` for forward; `flag` is a literal or a block parameter's code."""
    if flag is False:
        return []
    if flag is True:
        return [f"{mask}={causal_mask(query, key)}", f"{hint}=True"]
    return [f"{mask}={causal_mask(query, key)} if {src(flag)} else None", f"{hint}={src(flag)}"]


def _causal(name: str) -> Param:
    return Param(name, Bool(), False, forward=True, doc="mask later steps (a mask built from the sequence length)")


@LAYERS.register
class MultiheadAttention(Layer):
    """Self-attention on one input; cross-attention on (query, key and value) or (query, key, value)."""

    name, torch_class, ranks = "MultiheadAttention", "nn.MultiheadAttention", (2,)
    arity = (1, 2, 3)
    fixed = {"batch_first": True}
    params = (
        Param("embed_dim", Int(1), inferred=True),
        Param("num_heads", Int(1)),
        Param("dropout", Float(0, 1), 0.0),
        Param("bias", Bool(), True),
        Param("add_bias_kv", Bool(), False),
        Param("add_zero_attn", Bool(), False),
        Param("kdim", Optional(Int(1)), None, inferred=True),
        Param("vdim", Optional(Int(1)), None, inferred=True),
        _causal("is_causal"),
    )
    examples = (
        Example({"num_heads": 4}, ((6, 16),)),
        Example({"num_heads": 2, "bias": False, "add_bias_kv": True}, ((3, 8),)),
        Example({"num_heads": 2, "is_causal": True}, ((5, 8),)),
        Example({"num_heads": 2}, ((5, 8), (7, 3))),
        Example({"num_heads": 4, "is_causal": True, "add_zero_attn": True}, ((4, 8), (6, 8), (6, 5))),
    )

    def derive(self, ins):
        embed = feature_dim(ins[0], self.name)
        key, value = ins[1] if len(ins) > 1 else ins[0], ins[-1]
        dims = {"kdim": feature_dim(key, self.name), "vdim": feature_dim(value, self.name)}
        # PyTorch's own default for a size equal to embed_dim is none
        return {"embed_dim": embed, **{k: None if d == embed else d for k, d in dims.items()}}

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

    def count(self, args, ins):
        e, k, v = self._sizes(args)
        return 2 * e * e + e * (k + v) + 4 * e * args["bias"] + 2 * e * args["add_bias_kv"]

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
        mask = causal_keywords(args["is_causal"], "attn_mask", "is_causal", q, k)
        return f"{module}({', '.join([q, k, v, 'need_weights=False', *mask])})[0]"


def _transformer_params(causal: str) -> tuple[Param, ...]:
    return (
        Param("d_model", Int(1), inferred=True),
        Param("nhead", Int(1)),
        Param("dim_feedforward", Int(1), 2048),
        Param("dropout", Float(0, 1), 0.1),
        Param("activation", Str(("relu", "gelu")), "relu"),
        Param("layer_norm_eps", Float(0, lo_open=True), 1e-05),
        Param("norm_first", Bool(), False),
        Param("bias", Bool(), True),
        _causal(causal),
    )


class _Transformer(Layer):
    ranks = (2,)
    fixed = {"batch_first": True}

    def derive(self, ins):
        return {"d_model": feature_dim(ins[0], self.name)}

    def infer(self, args, ins):
        _heads_divide(args["d_model"], args["nhead"], "nhead")
        return ins[0]

    def _feedforward(self, args) -> int:
        e, f, b = args["d_model"], args["dim_feedforward"], args["bias"]
        return 2 * e * f + (f + e) * b

    def _attention(self, args) -> int:
        e = args["d_model"]
        return 4 * e * e + 4 * e * args["bias"]

    def _norm(self, args) -> int:
        return args["d_model"] * (1 + args["bias"])

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
    )

    def count(self, args, ins):
        return self._attention(args) + self._feedforward(args) + 2 * self._norm(args)

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
        return f"{module}({', '.join([x, *causal_keywords(args['is_causal'], 'src_mask', 'is_causal', x, x)])})"


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

    def count(self, args, ins):
        return 2 * self._attention(args) + self._feedforward(args) + 3 * self._norm(args)

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
        mask = causal_keywords(args["tgt_is_causal"], "tgt_mask", "tgt_is_causal", tgt, tgt)
        return f"{module}({', '.join([tgt, memory, *mask])})"
