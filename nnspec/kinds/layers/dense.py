"""Fully connected and lookup layers: Linear, Bilinear, Embedding, EmbeddingBag, PositionEmbedding, Identity."""

from __future__ import annotations

from nnspec.kinds.base import Example, Shape, ShapeError
from nnspec.kinds.cost import INDEX, NOTHING, Saved, as_rows, contiguous, size
from nnspec.kinds.layer import LAYERS, Layer, feature_dim
from nnspec.kinds.params import Bool, Float, Int, Optional, Param, Str


def _rows(shape: Shape) -> int:
    """Vectors per sample that a last-dim layer processes, 1 for (N, F)."""
    rows = 1
    for d in shape.dims[:-1]:
        rows *= d if isinstance(d, int) else 1
    return rows


@LAYERS.register
class Linear(Layer):
    name = "Linear"
    torch_class = "nn.Linear"
    any_layout = True  # acts on the last dim
    collapsible = True
    collapse_help = "add an activation such as ReLU() between them"
    params = (
        Param("in_features", Int(1), inferred=True),
        Param("out_features", Int(1)),
        Param("bias", Bool(), True),
    )
    examples = (Example({"out_features": 30}, ((20,),)), Example({"out_features": 4, "bias": False}, ((5, 8),)))

    def derive(self, ins):
        return {"in_features": feature_dim(ins[0], self.name)}

    def check_inputs(self, ins):
        super().check_inputs(ins)
        feature_dim(ins[0], self.name)

    def infer(self, args, ins):
        return ins[0].with_dims(ins[0].dims[:-1] + (args["out_features"],))

    def parameters(self, args):
        out = args["out_features"]
        return {"weight": (out, args["in_features"]), **({"bias": (out,)} if args["bias"] else {})}

    def macs(self, args, ins, out):
        return _rows(ins[0]) * args["in_features"] * args["out_features"]

    def saved(self, args, ins, out, flow):
        return as_rows(flow, 0, ins[0]) if flow.params else NOTHING  # x for the weight's gradient

    def largest(self, args, ins):
        return args["in_features"] * args["out_features"]


@LAYERS.register
class Bilinear(Layer):
    name = "Bilinear"
    torch_class = "nn.Bilinear"
    arity = 2
    params = (
        Param("in1_features", Int(1), inferred=True),
        Param("in2_features", Int(1), inferred=True),
        Param("out_features", Int(1)),
        Param("bias", Bool(), True),
    )
    examples = (Example({"out_features": 7}, ((5,), (3,))),)

    def derive(self, ins):
        return {"in1_features": feature_dim(ins[0], self.name), "in2_features": feature_dim(ins[1], self.name)}

    def infer(self, args, ins):
        if ins[0].dims[:-1] != ins[1].dims[:-1]:  # PyTorch pairs up the vectors of the two inputs
            raise ShapeError("E404", f"Bilinear needs the same dims before the last, got {ins[0]} and {ins[1]}")
        return ins[0].with_dims(ins[0].dims[:-1] + (args["out_features"],))

    def parameters(self, args):
        out = args["out_features"]
        weight = (out, args["in1_features"], args["in2_features"])
        return {"weight": weight, **({"bias": (out,)} if args["bias"] else {})}

    def macs(self, args, ins, out):
        return _rows(ins[0]) * args["in1_features"] * args["in2_features"] * args["out_features"]

    def saved(self, args, ins, out, flow):
        return as_rows(flow, 0, ins[0]) + as_rows(flow, 1, ins[1])  # each folded into rows apart


@LAYERS.register
class Embedding(Layer):
    name = "Embedding"
    torch_class = "nn.Embedding"
    input_dtype = "long"
    any_layout = True  # looks up every index where it is
    params = (
        Param("num_embeddings", Int(1)),
        Param("embedding_dim", Int(1)),
        Param("padding_idx", Optional(Int()), None),
        Param("max_norm", Optional(Float(0, lo_open=True)), None),
        Param("norm_type", Float(), 2.0),
        Param("scale_grad_by_freq", Bool(), False),
        Param("sparse", Bool(), False),
    )
    examples = (Example({"num_embeddings": 100, "embedding_dim": 8}, ((12,),), dtype="long"),)

    def validate(self, args):
        pad, n = args.get("padding_idx"), args.get("num_embeddings")
        if pad is not None and isinstance(n, int) and not -n <= pad < n:
            return [("E304", f"padding_idx {pad} must be within the {n} embeddings", "padding_idx")]
        return _sparse_scaling(args)

    def infer(self, args, ins):
        return ins[0].with_dims(ins[0].dims + (args["embedding_dim"],), "float")

    def parameters(self, args):
        return {"weight": (args["num_embeddings"], args["embedding_dim"])}

    def saved(self, args, ins, out, flow):
        return Saved(inputs=(0,))  # the indices, to scatter the gradient into the table


def _sparse_scaling(args) -> list:
    if args.get("scale_grad_by_freq") and args.get("sparse"):
        message = "scale_grad_by_freq=true does not work with sparse=true (PyTorch refuses it in backward)"
        return [("E307", message, "scale_grad_by_freq")]
    return []


@LAYERS.register
class EmbeddingBag(Layer):
    """Each sample's indices (L) looked up and pooled into one vector: (N, L) -> (N, E)."""

    name, torch_class, ranks = "EmbeddingBag", "nn.EmbeddingBag", (1,)
    input_dtype = "long"
    params = (
        Param("num_embeddings", Int(1)),
        Param("embedding_dim", Int(1)),
        Param("max_norm", Optional(Float(0, lo_open=True)), None),
        Param("norm_type", Float(), 2.0),
        Param("scale_grad_by_freq", Bool(), False),
        Param("mode", Str(("sum", "mean", "max")), "mean"),
        Param("sparse", Bool(), False),
    )
    examples = (
        Example({"num_embeddings": 50, "embedding_dim": 6}, ((9,),), dtype="long"),
        Example({"num_embeddings": 10, "embedding_dim": 4, "mode": "max"}, ((3,),), dtype="long"),
        Example({"num_embeddings": 8, "embedding_dim": 3, "mode": "sum", "sparse": True}, ((5,),), dtype="long"),
    )

    def validate(self, args):
        if args.get("mode") == "max":
            for flag in ("sparse", "scale_grad_by_freq"):
                if args.get(flag):
                    return [("E307", f'mode="max" does not work with {flag}=true (PyTorch refuses it)', flag)]
        return _sparse_scaling(args)

    def infer(self, args, ins):
        return ins[0].with_dims((args["embedding_dim"],), "float")

    def parameters(self, args):
        return {"weight": (args["num_embeddings"], args["embedding_dim"])}

    def saved(self, args, ins, out, flow):
        """The indices, and per bag its offset, size and (max) the winning index of each feature;
        mean and max also map each index to its bag (one more, for the whole batch)."""
        mode, length = args["mode"], size(ins[0].dims[0])
        per_bag = 3 * INDEX if mode != "max" else (2 + args["embedding_dim"]) * INDEX
        indices = contiguous(flow, 0, ins[0])  # flattened into one list
        if mode == "sum":
            return indices + Saved(own=per_bag)
        return indices + Saved(own=per_bag + length * INDEX, fixed=INDEX)


@LAYERS.register
class PositionEmbedding(Layer):
    """A learned embedding per position added to a sequence (T, E): x + weight[:T], as nanoGPT's wpe."""

    name, torch_class, ranks = "PositionEmbedding", "nn.Embedding", (2,)
    params = (Param("num_embeddings", Int(1)), Param("embedding_dim", Int(1), inferred=True))
    examples = (Example({"num_embeddings": 16}, ((10, 8),)), Example({"num_embeddings": 5}, ((5, 3),)))

    def derive(self, ins):
        return {"embedding_dim": feature_dim(ins[0], self.name)}

    def infer(self, args, ins):
        steps = ins[0].dims[0]
        if isinstance(steps, int) and steps > args["num_embeddings"]:
            raise ShapeError(
                "E402",
                f"PositionEmbedding: the sequence {ins[0]} has {steps} steps, more than its {args['num_embeddings']} positions",
                arg="num_embeddings",
            )
        return ins[0]

    def parameters(self, args):
        return {"weight": (args["num_embeddings"], args["embedding_dim"])}

    def saved(self, args, ins, out, flow):
        return Saved(fixed=size(ins[0].dims[0]) * INDEX) if flow.params else NOTHING  # the positions, once

    def forward(self, module, inputs, args):
        x = inputs[0]
        return f"{x} + {module}(torch.arange({x}.size(1), device={x}.device))"


@LAYERS.register
class Identity(Layer):
    name = "Identity"
    torch_class = "nn.Identity"
    input_dtype = None
    any_layout = True
    transparent = True
    examples = (Example({}, ((3, 4),)),)

    def layout(self, args, ins):
        return "view"
