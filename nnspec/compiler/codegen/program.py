"""The training program's view model: configuration literals, builders and imports, all strings."""

from __future__ import annotations

import ast as pyast
import os
import sys
from importlib import resources

from nnspec.compiler.ir import BoundCall, Program, Settings
from nnspec.compiler.names import safe_variable
from nnspec.compiler.settings import pick
from nnspec.compiler.walk import output_shapes
from nnspec.kinds.pysrc import Code, call, src
from nnspec.record import record


@record
class ProgramView:
    """Everything the program template places, as strings."""

    spec: str
    spec_literal: str
    script: str
    train: str
    model: str
    data: str
    imports: tuple[str, ...]
    data_config: str
    train_config: str
    classes: str  # rendered module classes
    loss: str
    optimizer: str
    scheduler: str
    metrics: str
    init: tuple[tuple[str, str, str | None], ...]
    loader: str
    streamed: bool  # in_memory = false: samples read by DataLoader workers, batch by batch
    task: str  # "multiclass" | "binary" | "regression"
    probabilities: str

    @property
    def classification(self) -> bool:
        return self.task != "regression"


@record
class Target:
    """Where the program runs from: data paths are written relative to it."""

    script: str  # file name of the generated program
    folder: str  # the folder it is written to (the current one for stdout)
    out: str  # default run folder


def program_view(program: Program, train: Settings, target: Target, classes: str) -> ProgramView:
    graph = pick(train, "model", program.models)
    data = pick(train, "data", program.data)
    loss = train.values["loss"]
    source = data.values["source"]
    task = loss.kind.task
    spec = spec_label(program.file.path)
    metrics = [m for m in train.values["metrics"] if isinstance(m, BoundCall)]
    output = output_shapes(graph)[graph.outputs[0][0]]
    streamed = not data.values["in_memory"]
    loader, loader_imports = _loader(source.kind.loader, "open_source" if streamed else "load_source")
    imports = {"import argparse", "import csv", "import fnmatch", "import os", "import random"}
    imports |= {"import numpy as np", "import torch", "from torch import nn"}
    imports |= loader_imports
    if streamed:
        imports.add("from torch.utils.data import DataLoader, Sampler, StackDataset")
    if metrics:
        imports.add("import torchmetrics")
    return ProgramView(
        spec=spec,
        spec_literal=src(spec),
        script=spec_label(target.script),
        train=train.name,
        model=safe_variable(graph.name),
        data=data.name,
        imports=_sorted_imports(imports),
        data_config=src(_data_config(program, data, source, loss, graph, output, target)),
        train_config=src(_train_config(program, train, target)),
        classes=classes,
        loss=_call(loss),
        optimizer=_optimizer(train.values["optimizer"]),
        scheduler=_scheduler(train.values["scheduler"]),
        metrics=_metrics(metrics, task, output),
        init=tuple(_init(pattern, bound) for pattern, bound in train.values["init"].items()),
        loader=loader,
        streamed=streamed,
        task=task,
        probabilities=loss.kind.probabilities.format(out="out"),
    )


def spec_label(path: str) -> str:
    """The spec's file name, safe inside comments and docstrings."""
    return "".join(c if c.isprintable() and c not in "\"'\\" else "_" for c in os.path.basename(path))


def _data_config(program, data: Settings, source: BoundCall, loss, graph, output, target: Target) -> dict:
    args = source.args()
    path = _relative(program, args.pop("path"), target) if source.kind.has_file else None
    options = dict(args)
    if source.kind.tabular:  # columns chosen in the data section
        options.update(target=data.values["target"], features=data.values["features"])
    values = data.values
    workers = {"num_workers": values["num_workers"]} if not values["in_memory"] else {}
    return {
        "path": path,
        "options": options,
        "input_shape": list(graph.inputs[0].shape.dims),
        "target_shape": [] if loss.kind.target == "class" else list(output.dims),
        "targets": "index" if loss.kind.target == "class" else "float",
        "num_classes": values["num_classes"],
        "one_hot": values["one_hot"],
        "split": values["split"],
        "batch_size": values["batch_size"],
        "shuffle": values["shuffle"],
        "drop_last": values["drop_last"],
        "normalize": values["normalize"],
        **workers,
    }


def _relative(program: Program, path: str, target: Target) -> str:
    """A path the spec gives relative to itself, made relative to the generated program."""
    absolute = os.path.join(os.path.dirname(os.path.abspath(program.file.path)), path)
    return os.path.relpath(absolute, os.path.abspath(target.folder))


def _train_config(program: Program, train: Settings, target: Target) -> dict:
    v = train.values
    scheduler = v["scheduler"]
    return {
        "from": _relative(program, v["from"], target) if v["from"] is not None else None,
        "skip_mismatched": v["skip_mismatched"],
        "freeze": v["freeze"],
        "layer_lr": v["layer_lr"],
        "epochs": v["epochs"],
        "lr": train.values["optimizer"].args()["lr"],
        "seed": v["seed"],
        "device": v["device"],
        "out": target.out,
        "monitor": v["monitor"],
        "mode": v["mode"],
        "patience": v["patience"],
        "clip_grad_norm": v["clip_grad_norm"],
        "accumulate": v["accumulate"],
        "scheduler_steps": scheduler.kind.steps if scheduler is not None else None,
    }


def _call(bound: BoundCall, lead=()) -> str:
    positional, keywords = bound.kind.constructor(bound.args())
    return call(bound.kind.torch_class, positional, keywords, lead)


def _optimizer(bound: BoundCall) -> str:
    args = {**bound.args(), "lr": Code("lr")}  # --lr overrides the spec's
    positional, keywords = bound.kind.constructor(args)
    return call(bound.kind.torch_class, positional, keywords, lead=("parameter_groups(model, lr)",))


def _scheduler(bound: BoundCall | None) -> str:
    return "None" if bound is None else _call(bound, lead=("optimizer",))


def _metrics(metrics: list[BoundCall], task: str, output) -> str:
    items = []
    for metric in metrics:
        args = metric.args()
        if "task" in args:
            args["task"] = task
            args["num_classes"] = output.dims[-1] if task == "multiclass" else None
        positional, keywords = metric.kind.constructor(args)
        items.append(f"{src(metric.kind.column)}: {call(metric.kind.torch_class, positional, keywords)}")
    return "{" + ", ".join(items) + "}"


def _init(pattern: str, bound: BoundCall) -> tuple[str, str, str | None]:
    args = bound.args()
    return src(pattern), bound.kind.weight_call(args, "param"), bound.kind.bias_call(args, "param")


def _loader(module: str, entry: str) -> tuple[str, set[str]]:
    """The definitions of a loader module that `entry` needs, in file order, and its import lines."""
    text = resources.files("nnspec.kinds.loaders").joinpath(f"{module}.py").read_text(encoding="utf-8")
    tree = pyast.parse(text)
    imports = {pyast.get_source_segment(text, n) for n in tree.body if isinstance(n, (pyast.Import, pyast.ImportFrom))}
    defined = {_defined_name(node): node for node in tree.body if _defined_name(node)}
    needed, todo = set(), [entry]
    while todo:
        name = todo.pop()
        if name in defined and name not in needed:
            needed.add(name)
            todo += [n.id for n in pyast.walk(defined[name]) if isinstance(n, pyast.Name)]
    body = [pyast.get_source_segment(text, node) for node in tree.body if _defined_name(node) in needed]
    return "\n\n\n".join(body), imports


def _defined_name(node) -> str | None:
    """The name a top-level function, class or single-name assignment defines."""
    if isinstance(node, (pyast.FunctionDef, pyast.ClassDef)):
        return node.name
    if isinstance(node, pyast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], pyast.Name):
        return node.targets[0].id
    return None


def _sorted_imports(lines: set[str]) -> tuple[str, ...]:
    """Standard library first, then third-party, each sorted; a blank line between."""

    def module(line: str) -> str:
        return line.split()[1].split(".")[0]

    def key(line: str) -> tuple:
        return module(line), line.startswith("from"), line

    std = sorted((line for line in lines if module(line) in sys.stdlib_module_names), key=key)
    third = sorted((line for line in lines if module(line) not in sys.stdlib_module_names), key=key)
    return (*std, "", *third) if std and third else (*std, *third)
