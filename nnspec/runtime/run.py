"""`nnspec run`: generate the program, execute it in memory, keep the run folder whole."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os

from nnspec.compiler.codegen import Target, generate
from nnspec.compiler.codegen.linker import is_setting
from nnspec.compiler.ir import Program, Settings
from nnspec.compiler.settings import pick
from nnspec.errors import UserError
from nnspec.files import write_atomic
from nnspec.record import record
from nnspec.runtime.execute import load_program
from nnspec.runtime.launch import Launch, check_port, launch, read_rows
from nnspec.runtime.plot import plot_curves

PROGRAM_FILE = "program.py"


@record
class RunOptions:
    """Where a run goes and what the command line overrides."""

    out: str
    epochs: int | None = None
    lr: float | None = None
    seed: int | None = None
    device: str | None = None
    resume: bool = False
    overfit_batch: bool = False
    launch: Launch | None = None  # --nproc: the program under torchrun, not in this process


class RunError(UserError):
    """A problem of a run the user can fix (data, folder, checkpoint); the message says which."""

    @classmethod
    def of(cls, e) -> RunError:
        """A generated program's DataError (or NonFiniteLoss) as the CLI reports it."""
        return cls(getattr(e, "message", str(e)), getattr(e, "code", None))


def default_out(spec_path: str) -> str:
    return os.path.join("runs", os.path.splitext(os.path.basename(spec_path))[0])


def program_source(program: Program, train: Settings, out: str | None = None) -> str:
    """The generated program, for running in memory (load_program); its default run folder is
    the spec's (--out gives the real one), so the text does not depend on where a run goes."""
    _workers_can_start(pick(train, "data", program.data))
    spec = program.file.path
    target = Target(os.path.basename(spec) + ".py", os.path.dirname(os.path.abspath(spec)), out or default_out(spec))
    return generate(program, train, target, format=False)


def run(program: Program, train: Settings, options: RunOptions, report) -> list[dict]:
    """Train; returns the metrics rows. Raises RunError for anything the user can fix."""
    if options.launch is not None:
        check_port(options.launch)
    source = program_source(program, train)
    namespace = load_program(source, program.file.path)
    args = namespace["arguments"](_argv(program, options))
    fingerprint = spec_fingerprint(program, train)
    if options.resume and _started_from(options.out) not in (None, fingerprint):
        message = (
            f"the spec changed since the run in {options.out} started; resume it unchanged or pass --out for a new run"
        )
        raise RunError(message, "E606")
    try:
        with namespace["RunFolder"](args):  # owned and locked before anything is written
            if not options.resume:
                _record(options.out, source, program, train, namespace, args, fingerprint)
            if options.launch is None:
                rows = namespace["train"](args, report)
        if options.launch is not None:  # the folder is the processes' now
            launch(options.launch, os.path.join(options.out, PROGRAM_FILE), _argv(program, options))
            rows = read_rows(os.path.join(options.out, "metrics.csv"))
    except namespace["NonFiniteLoss"] as e:
        last = os.path.join(options.out, "last.pt")
        kept = (
            f"the last good checkpoint is {last}"
            if os.path.exists(last)
            else "no epoch finished, so no checkpoint was written"
        )
        raise RunError(f"{e}; {kept}", "E610") from None
    except namespace["DataError"] as e:
        raise RunError.of(e) from None
    except namespace["torch"].OutOfMemoryError:  # a device's memory; the host's is MemoryError
        raise MemoryError from None
    if rows:
        plot_curves(rows, os.path.join(options.out, "curves.png"))
    return rows


def spec_fingerprint(program: Program, train: Settings) -> str:
    """What makes a run the same run: its spec's text and the train section, wherever the spec,
    the run folder or the working directory are, and whichever nnspec wrote the program."""
    return hashlib.sha256(f"{train.name}\0{program.file.source}".encode()).hexdigest()


def _argv(program: Program, options: RunOptions) -> list[str]:
    """The program's command line for these options (as `python program.py ...` would get it)."""
    argv = ["--out", options.out, "--data-root", os.path.dirname(os.path.abspath(program.file.path))]
    for name in ("epochs", "lr", "seed", "device"):
        value = getattr(options, name)
        if value is not None:
            argv += [f"--{name}", str(value)]
    return argv + ["--resume"] * options.resume + ["--overfit-batch"] * options.overfit_batch


def _record(out: str, source: str, program: Program, train: Settings, namespace: dict, args, fingerprint: str) -> None:
    """A new run's spec.nn, program.py (the program run) and resolved.json (with its fingerprint)."""
    write_atomic(os.path.join(out, "spec.nn"), program.file.source)
    write_atomic(os.path.join(out, PROGRAM_FILE), source)
    _write_resolved(out, train, namespace, args, fingerprint)
    _draw(out, program, train)


DRAWING_SECONDS = 20  # a run does not wait longer for Graphviz: it writes the DOT text instead


def _draw(out: str, program: Program, train: Settings) -> None:
    """graph.svg of the model the run trains; graph.dot where Graphviz is missing or too slow."""
    from nnspec.graph import render
    from nnspec.graph.graphviz import GraphvizError

    graph, spec = pick(train, "model", program.models), os.path.basename(program.file.path)
    try:
        write_atomic(os.path.join(out, "graph.svg"), render(graph, "svg", spec, timeout=DRAWING_SECONDS))
    except GraphvizError:
        write_atomic(os.path.join(out, "graph.dot"), render(graph, "dot", spec))


def _started_from(out: str) -> str | None:
    """The fingerprint of the program a run in `out` started with (None: not recorded)."""
    try:
        with open(os.path.join(out, "resolved.json"), encoding="utf-8") as f:
            return json.load(f)["spec_sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _workers_can_start(data: Settings) -> None:
    """DataLoader workers find the in-memory program's classes only in a forked copy of this process."""
    method = multiprocessing.get_start_method()
    if not data.values["in_memory"] and data.values["num_workers"] and method != "fork":
        raise RunError(
            f"num_workers = {data.values['num_workers']}: nnspec runs the program in memory, and workers started by {method} "
            "(not fork, which this platform does not use) cannot load its classes; run the compiled program "
            "(nnspec compile) or set num_workers = 0",
            "E611",
        )


def _plain(value) -> bool:
    """A value JSON holds (a setting's, not the program's own state)."""
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _write_resolved(out: str, train: Settings, namespace: dict, args, fingerprint: str) -> None:
    """resolved.json: the settings this run used, spec defaults and command-line overrides applied."""
    settings = {k: v for k, v in namespace.items() if is_setting(k) and _plain(v)}
    overrides = {k: getattr(args, k) for k in ("epochs", "lr", "seed", "device")}
    resolved = {"train": train.name, "overrides": overrides, "settings": settings, "spec_sha256": fingerprint}
    write_atomic(os.path.join(out, "resolved.json"), json.dumps(resolved, indent=2) + "\n")
