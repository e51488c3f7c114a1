"""Optimizer and LR scheduler kinds (torch.optim), with advised ranges for lr and momentum."""

from __future__ import annotations

from typing import ClassVar

from nnspec.kinds.base import Kind, Registry
from nnspec.kinds.params import Bool, Float, Int, Optional, Param, Seq, Str
from nnspec.kinds.pysrc import Code

OPTIMIZERS = Registry("optimizer", "SGD(lr=0.01)")
SCHEDULERS = Registry("scheduler", "StepLR(10)")


LR = Float(0)  # every optimizer's learning rate, and `--lr`


def _lr(default: float) -> Param:
    return Param("lr", LR, default, advise=(1e-6, 1.0), doc="learning rate")


_MOMENTUM = Param("momentum", Float(0), 0, advise=(0.0, 1.0))
_EPS = Param("eps", Float(0), 1e-08)
_BETAS = Param("betas", Seq(Float(0, 1, hi_open=True), 2), (0.9, 0.999))  # PyTorch refuses 1


class Optimizer(Kind):
    family = "optimizer"
    torch_class: ClassVar[str]

    def state(self, args: dict) -> int:
        """Tensors the size of each trained parameter that it keeps from step to step."""
        return 0

    def scratch(self, args: dict) -> int:
        """Temporaries the size of one parameter tensor that its step holds at once (PyTorch's
        default on CPU updates one parameter tensor at a time)."""
        return 0


@OPTIMIZERS.register
class SGD(Optimizer):
    name, torch_class = "SGD", "torch.optim.SGD"
    params = (
        _lr(0.001),
        _MOMENTUM,
        Param("dampening", Float(0), 0),
        Param("weight_decay", Float(0), 0),
        Param("nesterov", Bool(), False),
    )

    def validate(self, args):
        if args["nesterov"] and (not args["momentum"] or args["dampening"]):
            return [("E307", "nesterov needs momentum > 0 and dampening 0", "nesterov")]
        return []

    def state(self, args):
        return int(args["momentum"] != 0)  # the momentum buffer

    def scratch(self, args):
        return int(args["weight_decay"] != 0) + int(bool(args["nesterov"]))  # grad + decay, grad + momentum


@OPTIMIZERS.register
class Adam(Optimizer):
    name, torch_class = "Adam", "torch.optim.Adam"
    params = (_lr(0.001), _BETAS, _EPS, Param("weight_decay", Float(0), 0), Param("amsgrad", Bool(), False))

    def state(self, args):
        return 2 + int(bool(args["amsgrad"]))  # the two moments, and with amsgrad the largest second

    def scratch(self, args):
        return 2 + int(args["weight_decay"] != 0)  # sqrt(v) and its bias-corrected quotient; grad + decay


@OPTIMIZERS.register
class AdamW(Optimizer):
    name, torch_class = "AdamW", "torch.optim.AdamW"
    params = (_lr(0.001), _BETAS, _EPS, Param("weight_decay", Float(0), 0.01), Param("amsgrad", Bool(), False))

    def state(self, args):
        return 2 + int(bool(args["amsgrad"]))

    def scratch(self, args):
        return 2  # the decay scales the parameter in place


@OPTIMIZERS.register
class RMSprop(Optimizer):
    name, torch_class = "RMSprop", "torch.optim.RMSprop"
    params = (
        _lr(0.01),
        Param("alpha", Float(0, 1), 0.99),  # a moving average's weight: above 1 it goes negative, then nan
        _EPS,
        Param("weight_decay", Float(0), 0),
        _MOMENTUM,
        Param("centered", Bool(), False),
    )

    def state(self, args):
        """The square average; a momentum buffer; centered, the gradient's average."""
        return 1 + int(args["momentum"] != 0) + int(bool(args["centered"]))

    def scratch(self, args):
        return 1 + int(args["weight_decay"] != 0)  # the root of the average; grad + decay


class Scheduler(Kind):
    family = "scheduler"
    torch_class: ClassVar[str]
    steps: ClassVar[str] = "epoch"  # "epoch" | "batch" | "metric" (stepped with the validation loss)


@SCHEDULERS.register
class StepLR(Scheduler):
    name, torch_class = "StepLR", "torch.optim.lr_scheduler.StepLR"
    params = (Param("step_size", Int(1)), Param("gamma", Float(0), 0.1))


@SCHEDULERS.register
class CosineAnnealingLR(Scheduler):
    name, torch_class = "CosineAnnealingLR", "torch.optim.lr_scheduler.CosineAnnealingLR"
    params = (Param("T_max", Int(1)), Param("eta_min", Float(0), 0.0))


@SCHEDULERS.register
class OneCycleLR(Scheduler):
    """epochs and steps_per_epoch are filled in from the train section and the data."""

    name, torch_class, steps = "OneCycleLR", "torch.optim.lr_scheduler.OneCycleLR", "batch"

    def constructor(self, args):
        positional, keywords = super().constructor(args)
        if args["total_steps"] is None:  # the run's own length, --epochs included
            keywords.setdefault("epochs", Code("epochs"))
            keywords.setdefault("steps_per_epoch", Code("steps_per_epoch"))
        return positional, keywords

    params = (
        Param("max_lr", Float(0, lo_open=True), advise=(1e-6, 10.0)),
        Param("total_steps", Optional(Int(1)), None),
        Param("epochs", Optional(Int(1)), None),
        Param("steps_per_epoch", Optional(Int(1)), None),
        Param("pct_start", Float(0, 1), 0.3),
        Param("anneal_strategy", Str(("cos", "linear")), "cos"),
        Param("div_factor", Float(0, lo_open=True), 25.0),
        Param("final_div_factor", Float(0, lo_open=True), 10000.0),
    )


@SCHEDULERS.register
class ReduceLROnPlateau(Scheduler):
    name, torch_class, steps = "ReduceLROnPlateau", "torch.optim.lr_scheduler.ReduceLROnPlateau", "metric"
    params = (
        Param("mode", Str(("min", "max")), "min"),
        Param("factor", Float(0, 1, hi_open=True), 0.1),
        Param("patience", Int(0), 10),
        Param("threshold", Float(0), 0.0001),
        Param("threshold_mode", Str(("rel", "abs")), "rel"),
        Param("cooldown", Int(0), 0),
        Param("min_lr", Float(0), 0),
        Param("eps", Float(0), 1e-08),
    )
