"""The command line's arguments: one parser per command, built only for the command invoked."""

from __future__ import annotations

import argparse
import os
import sys


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line; with `only`, that command's subparser alone (each costs lint 0.5 ms)."""
    from nnspec import __version__

    parser = _Parser(prog="nnspec", description="Declarative graph specs for PyTorch: lint, summarize, compile, run.")
    parser.add_argument("--version", action="version", version=f"nnspec {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help, add_arguments) in ARGUMENTS.items():
        if only in (None, name):
            command = sub.add_parser(name, help=help)
            add_arguments(command)
            if name != "explain":  # every other command checks a spec
                budget = "error E510 for a model with more parameters"
                command.add_argument("--max-params", type=_positive_int, metavar="N", help=budget)
                memory = "error E519 for a training step estimated to need more memory, e.g. 8GB, 512MB, 1.5GiB"
                command.add_argument("--max-memory", type=_memory, metavar="SIZE", help=memory)
            if name in ("lint", "summary"):
                batch = "the batch size of the training step estimated (default: the train section's data's, else 1)"
                command.add_argument("--batch-size", type=_positive_int, metavar="B", help=batch)
    return parser


def _lint_arguments(p) -> None:
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--format", choices=("full", "concise", "json"), default="full")


def _summary_arguments(p) -> None:
    p.add_argument("file", metavar="FILE")
    p.add_argument("--model", help="which model (default: the first train section's, else the last model)")
    p.add_argument("--format", choices=("text", "json"), default="text")


def _graph_arguments(p) -> None:
    from nnspec.graph import FORMATS

    p.add_argument("file", metavar="FILE")
    p.add_argument("--model", help="which model (default: the first train section's, else the last model)")
    p.add_argument(
        "--format",
        choices=FORMATS,
        help="default: from the suffix of -o (.dot .gv .mmd .mermaid .svg .png), else dot; svg and png need Graphviz",
    )
    p.add_argument("-o", "--output", metavar="OUT", help="write here instead of stdout (needed for png)")
    p.add_argument(
        "--depth",
        type=_count,
        metavar="K",
        help="draw blocks nested K or more deep as one node each (0: every top-level block; default: none)",
    )
    p.add_argument("--force", action="store_true", help="overwrite OUT even if nnspec did not write it")


def _compile_arguments(p) -> None:
    p.add_argument("file", metavar="FILE")
    p.add_argument("-o", "--output", metavar="OUT.py", help="write here instead of stdout")
    p.add_argument("--train", help="which train section (needed when the file has several)")
    p.add_argument(
        "--force", action="store_true", help="overwrite OUT.py (and OUT_support.py) even if nnspec did not write it"
    )
    one = "the training program in one file (default with -o: OUT.py and the OUT_support.py it imports)"
    p.add_argument("--one-file", action="store_true", help=one)


def _run_arguments(p) -> None:
    p.add_argument("file", metavar="FILE")
    p.add_argument("--train", help="which train section (needed when the file has several)")
    p.add_argument("--out", help="run folder (default: runs/<spec name>)")
    p.add_argument("--epochs", type=_setting("epochs"), help="override the spec's epochs")
    p.add_argument("--lr", type=_setting("lr"), help="override the spec's learning rate")
    p.add_argument("--seed", type=_setting("seed"), help="override the spec's seed")
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), help="override the spec's device")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last.pt")
    p.add_argument(
        "--overfit-batch", action="store_true", help="train on one batch; reports whether the loss goes to about zero"
    )
    p.add_argument("--nproc", type=int, help="processes on this machine, under torchrun (gloo on CPU, nccl on CUDA)")
    p.add_argument("--nnodes", type=int, default=1, help="machines (with --nproc; default: %(default)s)")
    p.add_argument("--node-rank", type=int, default=0, help="this machine's rank among --nnodes (default: 0)")
    p.add_argument("--master-addr", help="the address of rank 0's machine (needed with --nnodes)")
    p.add_argument("--master-port", type=int, help="its port (default: a free one on one machine, else 29500)")
    p.add_argument("--max-restarts", type=int, default=0, help="torchrun restarts all processes after a failure")


def _search_arguments(p) -> None:
    p.add_argument("file", metavar="FILE")
    p.add_argument("--search", dest="name", help="which search section (needed when the file has several)")
    p.add_argument("--out", help="folder for search.csv and the trials (default: runs/<spec>_<search>)")


def _predict_arguments(p) -> None:
    p.add_argument("file", metavar="FILE")
    p.add_argument("--checkpoint", required=True, help="e.g. runs/iris/best.pt")
    p.add_argument("--input", required=True, help="samples in the training data's format (the target may be missing)")
    p.add_argument(
        "--output", required=True, help="CSV to write: prediction and, for classes, one probability column each"
    )
    p.add_argument("--train", help="which train section (needed when the file has several)")
    p.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda", "mps"))
    p.add_argument("--force", action="store_true", help="overwrite --output if it exists")


def _evaluate_arguments(p) -> None:
    p.add_argument("file", metavar="FILE")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--train", help="which train section (needed when the file has several)")
    p.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda", "mps"))


def _export_arguments(p) -> None:
    from nnspec.export import FORMATS

    p.add_argument("file", metavar="FILE")
    p.add_argument("--checkpoint", required=True, help="the weights, e.g. runs/iris/best.pt")
    p.add_argument("-o", "--output", metavar="OUT", help="default: <spec name>.onnx (or .pt2) here")
    p.add_argument("--format", choices=FORMATS, help="default: from the suffix of -o (.onnx, .pt2), else onnx")
    p.add_argument("--model", help="which model (default: the first train section's, else the last model)")
    p.add_argument("--force", action="store_true", help="overwrite OUT even if nnspec did not write it")
    p.add_argument(
        "--no-verify",
        dest="verify",
        action="store_false",
        help="skip running the file on other batch sizes (and lengths) against PyTorch",
    )


def _explain_arguments(p) -> None:
    p.add_argument("code", nargs="?", metavar="CODE", help="e.g. E401; without it, every code and its summary")


# In the order `nnspec --help` lists them.
ARGUMENTS = {
    "lint": ("check specs: syntax, names, arguments, shapes, ML mistakes", _lint_arguments),
    "summary": ("per-layer table of output shapes, parameters, FLOPs and memory", _summary_arguments),
    "graph": ("draw a model: DOT or Mermaid, or SVG and PNG with Graphviz", _graph_arguments),
    "compile": ("write the spec as a standalone PyTorch program", _compile_arguments),
    "run": ("train straight from the spec (runs exactly the code compile writes)", _run_arguments),
    "predict": ("predictions of a checkpoint for new samples, as CSV", _predict_arguments),
    "evaluate": ("loss and metrics of a checkpoint on the test split", _evaluate_arguments),
    "search": ("run the trials of a search section (grid or random)", _search_arguments),
    "export": ("a model with a checkpoint's weights as a verified ONNX or torch.export file", _export_arguments),
    "explain": ("what a diagnostic code means, with a wrong and a fixed example", _explain_arguments),
}


class _Formatter(argparse.HelpFormatter):
    """argparse's help layout, given the width shutil.get_terminal_size would find.

    argparse builds a formatter for every argument added, and finding the width itself imports
    shutil (with bz2 and lzma): 3 ms of every lint.
    """

    def __init__(self, prog: str):
        try:
            columns = int(os.environ["COLUMNS"])
        except (KeyError, ValueError):
            try:
                columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
            except (AttributeError, ValueError, OSError):
                columns = 80
        super().__init__(prog, width=columns - 2)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser (its subcommands' too) that lays out help with _Formatter."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)


def _setting(name: str):
    """An override's type: the rule the spec's own value of `name` is checked by."""
    from nnspec.compiler.schema import TRAIN
    from nnspec.kinds.optim import LR

    rule = LR if name == "lr" else next(p.type for p in TRAIN.params if p.name == name)

    def parse(text: str):
        try:
            value = int(text)
        except ValueError:
            value = float(text)  # argparse reports a ValueError as an invalid value
        problem = rule.check(value)
        if problem:
            raise argparse.ArgumentTypeError(f"must be {problem[1]}, not {text}")
        return value

    parse.__name__ = "number"  # argparse names the type in "invalid number value"
    return parse


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def _memory(text: str) -> int:
    from nnspec import bytesize

    value = bytesize.parse(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"not a size such as {bytesize.EXAMPLE}: {text!r}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value
