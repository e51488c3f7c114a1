"""Loss kinds: what each expects from the model and of the target."""

from __future__ import annotations

from typing import ClassVar

from nnspec.kinds.base import Kind, Registry
from nnspec.kinds.params import Float, Int, Optional, Param, Seq, Str
from nnspec.kinds.pysrc import Code, src

LOSSES = Registry("loss", "CrossEntropyLoss()")

# "none" (one loss per value) is not offered: training steps on one number per batch.
_REDUCTION = Param("reduction", Str(("mean", "sum")), "mean")
_WEIGHT = Param("weight", Optional(Seq(Float())), None)


class Loss(Kind):
    family = "loss"
    torch_class: ClassVar[str]
    expects: ClassVar[str] = "values"  # "logits" | "probabilities" | "log_probabilities" | "values"
    # The targets it takes, its usual form first (`one_hot = true` in the data picks "one_hot"):
    # "index": a class index in [0, C) per sample; "one_hot": C class probabilities per sample;
    # "binary": 0 or 1 per output value; "real": real values, as many as the output has.
    targets: ClassVar[tuple[str, ...]] = ("real", "one_hot")
    task: ClassVar[str] = "regression"  # "multiclass" | "binary" | "regression"
    hint: ClassVar[str] = ""  # how to give it what it expects (W501)
    probabilities: ClassVar[str] = "{out}"  # the model output as probabilities (or values)

    def takes(self, args: dict) -> tuple[str, ...]:
        """The targets it takes with these arguments (some of `targets`)."""
        return self.targets

    def constructor(self, args):
        positional, keywords = super().constructor(args)
        for name in ("weight", "pos_weight"):  # PyTorch wants tensors here
            if keywords.get(name) is not None:
                keywords[name] = Code(f"torch.tensor({src(keywords[name])})")
        return positional, keywords


@LOSSES.register
class MSELoss(Loss):
    name, torch_class, params = "MSELoss", "nn.MSELoss", (_REDUCTION,)


@LOSSES.register
class L1Loss(Loss):
    name, torch_class, params = "L1Loss", "nn.L1Loss", (_REDUCTION,)


@LOSSES.register
class SmoothL1Loss(Loss):
    name, torch_class = "SmoothL1Loss", "nn.SmoothL1Loss"
    params = (_REDUCTION, Param("beta", Float(0), 1.0))


@LOSSES.register
class HuberLoss(Loss):
    name, torch_class = "HuberLoss", "nn.HuberLoss"
    params = (_REDUCTION, Param("delta", Float(0, lo_open=True), 1.0))


@LOSSES.register
class BCELoss(Loss):
    name, torch_class, params = "BCELoss", "nn.BCELoss", (_WEIGHT, _REDUCTION)
    expects, task, targets = "probabilities", "binary", ("binary", "one_hot")
    hint = "end the model with Sigmoid(), or drop it and use BCEWithLogitsLoss on raw scores"


@LOSSES.register
class BCEWithLogitsLoss(Loss):
    name, torch_class = "BCEWithLogitsLoss", "nn.BCEWithLogitsLoss"
    params = (_WEIGHT, _REDUCTION, Param("pos_weight", Optional(Seq(Float(0))), None))
    expects, task, targets = "logits", "binary", ("binary", "one_hot")
    probabilities = "torch.sigmoid({out})"


@LOSSES.register
class CrossEntropyLoss(Loss):
    name, torch_class = "CrossEntropyLoss", "nn.CrossEntropyLoss"
    params = (
        _WEIGHT,
        Param("ignore_index", Int(), -100),
        _REDUCTION,
        Param("label_smoothing", Float(0, 1), 0.0),
    )
    expects, task, targets = "logits", "multiclass", ("index", "one_hot")
    probabilities = "torch.softmax({out}, dim=1)"

    def takes(self, args):
        # PyTorch ignores an index only among indices: class probabilities have none to ignore
        return self.targets if args["ignore_index"] == self.param("ignore_index").default else ("index",)


@LOSSES.register
class NLLLoss(Loss):
    name, torch_class = "NLLLoss", "nn.NLLLoss"
    params = (_WEIGHT, Param("ignore_index", Int(), -100), _REDUCTION)
    expects, task, targets = "log_probabilities", "multiclass", ("index",)
    probabilities = "{out}.exp()"
    hint = "end the model with LogSoftmax(dim=1), or use CrossEntropyLoss on raw scores"
