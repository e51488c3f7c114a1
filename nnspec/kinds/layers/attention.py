"""Attention over batch-first sequences (T, E): MultiheadAttention, TransformerEncoderLayer."""

from __future__ import annotations

from nnspec.kinds.base import Example, ShapeError
from nnspec.kinds.layer import LAYERS, Layer, feature_dim
from nnspec.kinds.params import Bool, Float, Int, Param, Str


def _heads_divide(embed: int, heads: int, arg: str) -> None:
    if embed % heads:
        raise ShapeError("E307", f"embedding size {embed} must be divisible by the {heads} heads", arg=arg)


@LAYERS.register
class MultiheadAttention(Layer):
    """Self-attention: query, key and value are the same sequence."""

    name, torch_class, ranks = "MultiheadAttention", "nn.MultiheadAttention", (2,)
    fixed = {"batch_first": True}
    params = (
        Param("embed_dim", Int(1), inferred=True),
        Param("num_heads", Int(1)),
        Param("dropout", Float(0, 1), 0.0),
        Param("bias", Bool(), True),
        Param("add_bias_kv", Bool(), False),
        Param("add_zero_attn", Bool(), False),
    )
    examples = (
        Example({"num_heads": 4}, ((6, 16),)),
        Example({"num_heads": 2, "bias": False, "add_bias_kv": True}, ((3, 8),)),
    )

    def derive(self, ins):
        return {"embed_dim": feature_dim(ins[0], self.name)}

    def infer(self, args, ins):
        _heads_divide(args["embed_dim"], args["num_heads"], "num_heads")
        return ins[0]

    def count(self, args, ins):
        e = args["embed_dim"]
        return 4 * e * e + 4 * e * args["bias"] + 2 * e * args["add_bias_kv"]

    def macs(self, args, ins, out):
        t = ins[0].dims[0] if isinstance(ins[0].dims[0], int) else 1
        e = args["embed_dim"]
        return 4 * t * e * e + 2 * t * t * e

    def forward(self, module, inputs, args):
        x = inputs[0]
        return f"{module}({x}, {x}, {x}, need_weights=False)[0]"


@LAYERS.register
class TransformerEncoderLayer(Layer):
    name, torch_class, ranks = "TransformerEncoderLayer", "nn.TransformerEncoderLayer", (2,)
    fixed = {"batch_first": True}
    params = (
        Param("d_model", Int(1), inferred=True),
        Param("nhead", Int(1)),
        Param("dim_feedforward", Int(1), 2048),
        Param("dropout", Float(0, 1), 0.1),
        Param("activation", Str(("relu", "gelu")), "relu"),
        Param("layer_norm_eps", Float(0, lo_open=True), 1e-05),
        Param("norm_first", Bool(), False),
        Param("bias", Bool(), True),
    )
    examples = (
        Example({"nhead": 4, "dim_feedforward": 32}, ((5, 16),)),
        Example({"nhead": 2, "dim_feedforward": 8, "bias": False, "norm_first": True, "activation": "gelu"}, ((3, 6),)),
    )

    def derive(self, ins):
        return {"d_model": feature_dim(ins[0], self.name)}

    def infer(self, args, ins):
        _heads_divide(args["d_model"], args["nhead"], "nhead")
        return ins[0]

    def count(self, args, ins):
        e, f, b = args["d_model"], args["dim_feedforward"], args["bias"]
        attention = 4 * e * e + 4 * e * b
        feedforward = 2 * e * f + (f + e) * b
        norms = 2 * e * (1 + b)
        return attention + feedforward + norms

    def macs(self, args, ins, out):
        t = ins[0].dims[0] if isinstance(ins[0].dims[0], int) else 1
        e, f = args["d_model"], args["dim_feedforward"]
        return t * (4 * e * e + 2 * e * f) + 2 * t * t * e
