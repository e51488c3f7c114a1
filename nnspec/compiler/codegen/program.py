"""The training program's view model: its settings and the spec's own code, all strings.

Library code comes from nnspec/program/ through the linker; what is written here is only what
the spec decides: the values of the settings, the calls that build its model, loss, optimizer,
scheduler, metrics and data source, and which steps `train` takes.
"""

from __future__ import annotations

import os

from nnspec.compiler.ir import BoundCall, Graph, Program, Settings
from nnspec.compiler.names import safe_variable
from nnspec.compiler.preprocess import channel_stats
from nnspec.compiler.settings import pick
from nnspec.compiler.walk import batch_statistics, output_shapes
from nnspec.compiler.weights import frozen_patterns
from nnspec.kinds.pysrc import Code, call, src
from nnspec.record import record

# Names the template defines, beside the library's and the model classes.
TEMPLATE_NAMES = frozenset(
    """read_samples read_data build_model build_loss build_optimizer build_scheduler build_metrics
    init_rules build_augment probabilities train main""".split()
)
# What build_scheduler may take, and what train() passes for it.
_SCHEDULER_ARGS = {"optimizer": "optimizer", "epochs": "args.epochs", "steps_per_epoch": 'len(batches["train"])'}
# Imports the spec's own code may need beyond the library's.
EXTRA_IMPORTS = {"torchmetrics": "import torchmetrics", "sys": "import sys"}


@record
class Target:
    """Where the program runs from: data paths are written relative to it."""

    script: str  # file name of the generated program
    folder: str  # the folder it is written to (the current one for stdout)
    out: str  # default run folder


@record
class ProgramView:
    """Everything the program template places, as strings (library parts come from the linker)."""

    spec: str
    script: str
    train: str
    model: str
    data: str
    read: str  # def read_samples(...) and its body
    read_call: str  # how train() reads the data
    loss: str
    optimizer: str
    scheduler: str | None  # the constructor call, or None without a scheduler
    scheduler_args: tuple[str, ...]  # the names it uses: optimizer, epochs, steps_per_epoch
    scheduler_call_args: str  # what train() passes for them
    metrics: str | None
    init: str | None  # the rules list, or None without `init`
    augment: str | None  # the data section's `augment` as one module, or None
    probabilities: str  # the outputs as probabilities (or values), for predict
    streamed: bool
    pretrained: bool
    frozen: bool


def program_view(program: Program, train: Settings, target: Target) -> ProgramView:
    graph = pick(train, "model", program.models)
    data = pick(train, "data", program.data)
    v = train.values
    scheduler = v["scheduler"]
    scheduler_call = _call(scheduler, lead=("optimizer",)) if scheduler is not None else None
    return ProgramView(
        spec=spec_label(program.file.path),
        script=spec_label(target.script),
        train=train.name,
        model=safe_variable(graph.name),
        data=data.name,
        read=_reader(data),
        read_call=_read_call(data),
        loss=_call(v["loss"]),
        optimizer=_optimizer(v["optimizer"], bool(v["layer_lr"] or _frozen(train, graph))),
        scheduler=scheduler_call,
        scheduler_args=tuple(n for n in _SCHEDULER_ARGS if n in (scheduler_call or "")),
        scheduler_call_args=", ".join(a for n, a in _SCHEDULER_ARGS.items() if n in (scheduler_call or "")),
        metrics=_metrics([m for m in v["metrics"] if isinstance(m, BoundCall)], v["loss"].kind.task, graph),
        init=_init_rules(v["init"]) if v["init"] else None,
        augment=_augment(data.values["augment"]),
        probabilities=v["loss"].kind.probabilities.format(out="out"),
        streamed=not data.values["in_memory"],
        pretrained=v["from"] is not None,
        frozen=bool(_frozen(train, graph)),
    )


def spec_label(path: str) -> str:
    """The spec's file name, safe inside comments and docstrings."""
    return "".join(c if c.isprintable() and c not in "\"'\\" else "_" for c in os.path.basename(path))


def settings(program: Program, train: Settings, target: Target) -> tuple[dict, dict]:
    """(setting -> value, setting -> provenance comment) for this training program."""
    graph = pick(train, "model", program.models)
    data = pick(train, "data", program.data)
    values, comments = {}, {}
    for name, value, section, key in _settings(program, train, data, graph, target):
        values[name] = value
        span = section.spans.get(key) if key else None
        if span is not None:
            comments[name] = f"{spec_label(program.file.path)}:{span.line}"
    return values, comments


def _settings(program: Program, train: Settings, data: Settings, graph: Graph, target: Target):
    """(setting, value, section it comes from, key written there or None)."""
    d, t = data.values, train.values
    source = d["source"]
    loss = t["loss"]
    output = output_shapes(graph)[graph.outputs[0][0]]
    scheduler = t["scheduler"]
    if source.kind.has_file:
        yield "DATA_PATH", _relative(program, source.args()["path"], target), data, "source"
    if source.kind.tabular:
        yield "FEATURES", d["features"], data, "features"
    yield "SPLIT", d["split"], data, "split"
    yield "BATCH_SIZE", d["batch_size"], data, "batch_size"
    yield "SHUFFLE", d["shuffle"], data, "shuffle"
    yield "DROP_LAST", d["drop_last"], data, "drop_last"
    mean, std = channel_stats(data)
    yield (
        "NORMALIZE",
        "channels" if mean is not None else d["normalize"],
        data,
        "normalize" if d["mean"] is None else "mean",
    )
    yield "MEAN", mean, data, "normalize" if d["mean"] is None else "mean"
    yield "STD", std, data, "normalize" if d["std"] is None else "std"
    yield "IN_MEMORY", d["in_memory"], data, "in_memory"
    yield "NUM_WORKERS", d["num_workers"], data, "num_workers"
    yield "NUM_CLASSES", d["num_classes"], data, "num_classes"
    yield "TARGETS", "one_hot" if d["one_hot"] else loss.kind.targets[0], data, "one_hot"
    yield "INPUT_SHAPE", tuple(graph.inputs[0].shape.dims), None, None
    yield "INPUT_DTYPE", graph.inputs[0].shape.dtype, None, None
    yield "OUTPUT_SHAPE", tuple(output.dims), None, None
    yield "POSITIONS", len(output.dims) > 1 and "index" in loss.kind.targets and not d["one_hot"], None, None
    yield "BATCH_STATISTICS", batch_statistics(graph), None, None
    yield "TASK", loss.kind.task, None, None
    yield "METRICS", bool(t["metrics"]), train, "metrics"
    yield "EPOCHS", t["epochs"], train, "epochs"
    yield "LR", t["optimizer"].args()["lr"], train, "optimizer"
    yield "SEED", t["seed"], train, "seed"
    yield "DEVICE", t["device"], train, "device"
    yield "OUT", target.out, None, None
    yield "MONITOR", t["monitor"], train, "monitor"
    yield "MODE", t["mode"], train, "mode"
    yield "PATIENCE", t["patience"], train, "patience"
    yield "CLIP_GRAD_NORM", t["clip_grad_norm"], train, "clip_grad_norm"
    yield "ACCUMULATE", t["accumulate"], train, "accumulate"
    yield "SCHEDULER_STEPS", scheduler.kind.steps if scheduler is not None else None, train, "scheduler"
    yield "FROM", _relative(program, t["from"], target) if t["from"] is not None else None, train, "from"
    yield "SKIP_MISMATCHED", t["skip_mismatched"], train, "skip_mismatched"
    yield "EXCLUDE", t["exclude"], train, "exclude"
    yield "SAFETENSORS", (t["from"] or "").endswith(".safetensors"), train, "from"
    yield "FREEZE", _frozen(train, graph), train, "freeze"
    yield "LAYER_LR", t["layer_lr"], train, "layer_lr"
    yield "PRECISION", t["precision"], train, "precision"
    yield "COMPILE", t["compile"], train, "compile"
    yield "SYNC_BATCHNORM", t["sync_batchnorm"], train, "sync_batchnorm"


def _frozen(train: Settings, graph: Graph) -> list:
    """The train section's `freeze` patterns and the model's own (also frozen batch norm's
    running statistics then stay as they are)."""
    return [*train.values["freeze"], *frozen_patterns(graph)]


def _relative(program: Program, path: str, target: Target) -> str:
    """A path the spec gives relative to itself, made relative to the generated program."""
    absolute = os.path.join(os.path.dirname(os.path.abspath(program.file.path)), path)
    return os.path.relpath(absolute, os.path.abspath(target.folder))


def _reader(data: Settings) -> str:
    """def read_samples(...): the data section's source, read from a path train() gives."""
    source = data.values["source"]
    args = source.args()
    keywords = {p.name: args[p.name] for p in source.kind.params if p.name != "path" and args[p.name] != p.default}
    if source.kind.tabular:
        keywords.update(target=data.values["target"], features=Code("features"))
        keywords = {k: v for k, v in keywords.items() if v is not None}
    entry = f"{'open' if not data.values['in_memory'] else 'load'}_{source.kind.name}"
    lead = ("path",) if source.kind.has_file else ()
    params = ", ".join([*lead, *(["features=FEATURES"] if source.kind.tabular else [])])
    doc = f'"""The samples of data `{data.name}`{" in `path`" if lead else ""}."""'
    return f"def read_samples({params}):\n    {doc}\n    return {call(entry, (), keywords, lead)}\n"


def _read_call(data: Settings) -> str:
    return "read_samples(data_file(root, DATA_PATH))" if data.values["source"].kind.has_file else "read_samples()"


def _call(bound: BoundCall, lead=()) -> str:
    positional, keywords = bound.kind.constructor(bound.args())
    return call(bound.kind.torch_class, positional, keywords, lead)


def _optimizer(bound: BoundCall, grouped: bool) -> str:
    args = {**bound.args(), "lr": Code("lr")}  # --lr overrides the spec's
    positional, keywords = bound.kind.constructor(args)
    params = "parameter_groups(model, lr)" if grouped else "model.parameters()"
    return call(bound.kind.torch_class, positional, keywords, lead=(params,))


def _metrics(metrics: list[BoundCall], task: str, graph: Graph) -> str | None:
    if not metrics:
        return None
    output = output_shapes(graph)[graph.outputs[0][0]]
    items = []
    for metric in metrics:
        args = metric.args()
        if "task" in args:
            args["task"] = task
            args["num_classes"] = output.dims[-1] if task == "multiclass" else None
        positional, keywords = metric.kind.constructor(args)
        items.append(f"{src(metric.kind.column)}: {call(metric.kind.torch_class, positional, keywords)}")
    return "{" + ", ".join(items) + "}"


def _augment(calls: list[BoundCall]) -> str | None:
    """nn.Sequential of the augmentation kinds, in the spec's order."""
    return f"nn.Sequential({', '.join(_call(c) for c in calls)})" if calls else None


def _init_rules(rules: dict) -> str:
    """[(pattern, weight initialiser, bias initialiser or None), ...] as source."""
    items = []
    for pattern, bound in rules.items():
        args = bound.args()
        bias = bound.kind.bias_call(args, "b")
        items.append(
            f"({src(pattern)}, lambda w: {bound.kind.weight_call(args, 'w')}, {f'lambda b: {bias}' if bias else 'None'})"
        )
    return "[" + ", ".join(items) + "]"
