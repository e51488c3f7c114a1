"""Losses, optimizers, schedulers, initialisers, metrics and data sources against what they stand for.

Each parameter is an argument of the PyTorch callable with PyTorch's default (or one the kind
declares nnspec's own), and the call codegen writes builds and works for the defaults and for
every parameter at its bounds. A new kind is checked without anyone writing a test for it.
Data sources have no PyTorch class: their parameters are held to the program's own loaders.
Search distributions and goals have none either (search draws with random.Random): no oracle.
"""

from __future__ import annotations

import importlib
import inspect
import math
import pkgutil

import pytest
import torch
from torch import nn

import nnspec.program.sources
from nnspec.kinds import INITS, LOSSES, METRICS, OPTIMIZERS, SCHEDULERS, SOURCES
from nnspec.kinds.optim import SGD
from nnspec.kinds.params import Param
from nnspec.kinds.pysrc import Code
from tests.registry_oracle import build, cases, failures, resolve, signature_problems

CLASSES, BATCH = 3, 8
TORCH_FAMILIES = [*LOSSES, *OPTIMIZERS, *SCHEDULERS, *METRICS]
LEADS = {"optimizer": 1, "scheduler": 1}  # the parameters, the optimizer: codegen's first argument


def _ids(kinds):
    return [k.name for k in kinds]


@pytest.mark.parametrize("kind", TORCH_FAMILIES, ids=_ids(TORCH_FAMILIES))
def test_parameters_are_pytorch_arguments(kind):
    sig = inspect.signature(resolve(kind.torch_class))
    assert signature_problems(kind, sig, LEADS.get(kind.family, 0)) == []


@pytest.mark.parametrize("kind", list(INITS), ids=_ids(INITS))
def test_initialiser_parameters_are_init_arguments(kind):
    sig = inspect.signature(getattr(nn.init, kind.function))
    assert signature_problems(kind, sig, lead=1) == []  # lead: the tensor filled


def test_a_wrong_default_is_caught():
    """The check above fails for an optimizer whose lr default differs from PyTorch's."""

    class Wrong(SGD):
        params = (Param("lr", SGD.params[0].type, 0.01), *SGD.params[1:])

    sig = inspect.signature(resolve(Wrong.torch_class))
    assert [p for p in signature_problems(Wrong(), sig, lead=1) if ".lr:" in p]


@pytest.mark.parametrize("kind", list(LOSSES), ids=_ids(LOSSES))
def test_loss_builds_and_gives_a_scalar(kind):
    assert failures(kind, _use_loss, cases(kind)) == []


def _use_loss(kind, args):
    loss_fn = build(kind, args)
    raw = torch.randn(BATCH, CLASSES, requires_grad=True)
    out = {"probabilities": torch.sigmoid, "log_probabilities": lambda t: t.log_softmax(1)}.get(kind.expects, None)
    for target in kind.takes(args):
        loss = loss_fn(out(raw) if out else raw, _target(target))
        assert loss.dim() == 0, f"a loss of shape {tuple(loss.shape)}: training needs one number"
        loss.backward()


def _target(form: str) -> torch.Tensor:
    index = torch.randint(0, CLASSES, (BATCH,))
    return {
        "index": index,
        "one_hot": nn.functional.one_hot(index, CLASSES).float(),
        "binary": torch.randint(0, 2, (BATCH, CLASSES)).float(),
        "real": torch.randn(BATCH, CLASSES),
    }[form]


@pytest.mark.parametrize("kind", list(OPTIMIZERS), ids=_ids(OPTIMIZERS))
def test_optimizer_builds_and_steps(kind):
    assert failures(kind, _use_optimizer, cases(kind)) == []


def _use_optimizer(kind, args):
    model = nn.Linear(CLASSES, 2)
    optimizer = build(kind, args, lead=("model.parameters()",), env={"model": model})
    model(torch.randn(BATCH, CLASSES)).sum().backward()
    optimizer.step()
    assert all(torch.isfinite(p).all() for p in model.parameters())


@pytest.mark.parametrize("kind", list(SCHEDULERS), ids=_ids(SCHEDULERS))
def test_scheduler_builds_and_steps(kind):
    assert failures(kind, _use_scheduler, cases(kind)) == []


def _use_scheduler(kind, args):
    model = nn.Linear(CLASSES, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    env = {"optimizer": optimizer, "epochs": 2, "steps_per_epoch": 3}  # what train() passes
    scheduler = build(kind, args, lead=("optimizer",), env=env)
    optimizer.step()
    scheduler.step(*([1.0] if kind.steps == "metric" else []))
    assert all(math.isfinite(g["lr"]) for g in optimizer.param_groups)


def test_onecycle_fills_in_the_run_length():
    kind = SCHEDULERS.get("OneCycleLR")
    _, keywords = kind.constructor(cases(kind)[0])
    assert keywords["epochs"] == Code("epochs") and keywords["steps_per_epoch"] == Code("steps_per_epoch")


@pytest.mark.parametrize("kind", list(INITS), ids=_ids(INITS))
def test_initialiser_fills_weights_and_biases(kind):
    assert failures(kind, _use_init, cases(kind)) == []


def _use_init(kind, args):
    for shape in ((4, CLASSES), (4, CLASSES, 2, 2)):  # a Linear weight, a Conv2d kernel
        weight, bias = torch.full(shape, math.nan), torch.full(shape[:1], math.nan)
        eval(kind.weight_call(args, "w"), {"nn": nn, "w": weight})
        assert torch.isfinite(weight).all()
        bias_call = kind.bias_call(args, "b")
        if bias_call is not None:
            eval(bias_call, {"nn": nn, "b": bias})
            assert torch.isfinite(bias).all()


@pytest.mark.parametrize("kind", list(METRICS), ids=_ids(METRICS))
def test_metric_builds_and_gives_one_number(kind):
    found = []
    for task in kind.tasks:
        inferred = (
            {"task": task, "num_classes": CLASSES if task == "multiclass" else None} if kind.param("task") else {}
        )
        found += failures(kind, lambda k, a, task=task: _use_metric(k, a, task), cases(kind, inferred))
    assert found == []


def _use_metric(kind, args, task):
    metric = build(kind, args)
    index = torch.arange(BATCH) % CLASSES  # every class present: AUROC needs each
    preds, target = {
        "multiclass": (torch.randn(BATCH, CLASSES).softmax(1), index),
        "binary": (torch.rand(BATCH), index % 2),
        "regression": (torch.randn(BATCH), torch.randn(BATCH)),
    }[task]
    metric.update(preds, target)
    metric.compute().item()  # one number per epoch: the loop logs .item()


SOURCE_KINDS = list(SOURCES)


@pytest.mark.parametrize("kind", SOURCE_KINDS, ids=_ids(SOURCE_KINDS))
def test_source_parameters_are_loader_arguments(kind):
    """No PyTorch class reads these: each is nnspec's own `load_<name>` (and `open_<name>`)."""
    names = [f"load_{kind.name}", *([f"open_{kind.name}"] if kind.streams else [])]
    for name in names:
        assert name in LOADERS, f"no {name} in nnspec/program/sources"
        assert signature_problems(kind, inspect.signature(LOADERS[name])) == [], name


def _loaders() -> dict:
    found = {}
    for info in pkgutil.iter_modules(nnspec.program.sources.__path__):
        module = importlib.import_module(f"nnspec.program.sources.{info.name}")
        found.update({n: f for n, f in vars(module).items() if n.startswith(("load_", "open_")) and callable(f)})
    return found


LOADERS = _loaders()
