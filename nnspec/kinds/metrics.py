"""torchmetrics metric kinds; `task` and `num_classes` are inferred from the loss and the model."""

from __future__ import annotations

from typing import ClassVar

from nnspec.kinds.base import Kind, Registry
from nnspec.kinds.params import Bool, Float, Int, Optional, Param, Str

METRICS = Registry("metric", "Accuracy()")

_TASK = Param("task", Str(("binary", "multiclass")), inferred=True)
_CLASSES = Param("num_classes", Optional(Int(2)), None, inferred=True)
# Not "none" (nor none): that gives one value per class, and metrics.csv has one per metric.
_AVERAGE = Param("average", Str(("micro", "macro", "weighted")), "micro")


class Metric(Kind):
    family = "metric"
    torch_class: ClassVar[str]
    tasks: ClassVar[tuple[str, ...]] = ("binary", "multiclass")  # or ("regression",)

    def constructor(self, args):
        positional, keywords = super().constructor(args)
        named = [p.name for p in self.params if p.required]
        return [], {**dict(zip(named, positional)), **keywords}  # task="multiclass" reads better

    @property
    def column(self) -> str:
        """snake_case name used in metrics.csv: F1Score -> f1_score."""
        out = []
        for i, ch in enumerate(self.name):
            if ch.isupper() and i and not self.name[i - 1].isupper():
                out.append("_")
            out.append(ch.lower())
        return "".join(out)


class _Classification(Metric):
    params = (_TASK, Param("threshold", Float(0, 1), 0.5), _CLASSES, _AVERAGE)


@METRICS.register
class Accuracy(_Classification):
    name, torch_class = "Accuracy", "torchmetrics.Accuracy"


@METRICS.register
class F1Score(_Classification):
    name, torch_class = "F1Score", "torchmetrics.F1Score"


@METRICS.register
class Precision(_Classification):
    name, torch_class = "Precision", "torchmetrics.Precision"


@METRICS.register
class Recall(_Classification):
    name, torch_class = "Recall", "torchmetrics.Recall"


@METRICS.register
class AUROC(Metric):
    name, torch_class = "AUROC", "torchmetrics.AUROC"
    params = (_TASK, _CLASSES, Param("average", Str(("macro", "weighted")), "macro"))


class _Regression(Metric):
    tasks = ("regression",)


@METRICS.register
class MeanSquaredError(_Regression):
    name, torch_class = "MeanSquaredError", "torchmetrics.MeanSquaredError"
    params = (Param("squared", Bool(), True),)


@METRICS.register
class MeanAbsoluteError(_Regression):
    name, torch_class = "MeanAbsoluteError", "torchmetrics.MeanAbsoluteError"


@METRICS.register
class R2Score(_Regression):
    name, torch_class = "R2Score", "torchmetrics.R2Score"
