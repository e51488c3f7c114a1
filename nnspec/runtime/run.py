"""`nnspec run`: generate the program, execute it in memory, keep the run folder whole."""

from __future__ import annotations

import json
import multiprocessing
import os

from nnspec.compiler.codegen import Target, generate
from nnspec.compiler.ir import Program, Settings
from nnspec.compiler.settings import pick
from nnspec.errors import UserError
from nnspec.files import write_atomic
from nnspec.record import record
from nnspec.runtime.execute import load_program
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


class RunError(UserError):
    """A problem of a run the user can fix (data, folder, checkpoint); the message says which."""

    @classmethod
    def of(cls, e) -> RunError:
        """A generated program's DataError (or NonFiniteLoss) as the CLI reports it."""
        return cls(getattr(e, "message", str(e)), getattr(e, "code", None))


def default_out(spec_path: str) -> str:
    return os.path.join("runs", os.path.splitext(os.path.basename(spec_path))[0])


def program_source(program: Program, train: Settings, out: str) -> str:
    """The generated program, for running in memory (load_program)."""
    _workers_can_start(pick(train, "data", program.data))
    spec = program.file.path
    target = Target(os.path.basename(spec) + ".py", os.path.dirname(os.path.abspath(spec)), out)
    return generate(program, train, target, format=False)


def run(program: Program, train: Settings, options: RunOptions, report) -> list[dict]:
    """Train; returns the metrics rows. Raises RunError for anything the user can fix."""
    source = program_source(program, train, options.out)
    _prepare_folder(options, source, program)
    namespace = load_program(source, program.file.path)
    started = _started_with(options) if options.resume else {}
    overrides = {
        "epochs": options.epochs or started.get("epochs"),
        "lr": _pick(options.lr, started.get("lr"), None),
        "seed": _pick(options.seed, started.get("seed"), None),
        "device": options.device,
    }
    args = namespace["arguments"](_argv(program, options, overrides))
    _write_resolved(options.out, train, namespace, args)
    try:
        rows = namespace["train"](args, report)
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
    if rows:
        plot_curves(rows, os.path.join(options.out, "curves.png"))
    return rows


def _argv(program: Program, options: RunOptions, overrides: dict) -> list[str]:
    """The program's command line for these options (as `python program.py ...` would get it)."""
    argv = ["--out", options.out, "--data-root", os.path.dirname(os.path.abspath(program.file.path))]
    for name, value in overrides.items():
        if value is not None:
            argv += [f"--{name}", str(value)]
    return argv + ["--resume"] * options.resume + ["--overfit-batch"] * options.overfit_batch


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


def _pick(given, started, spec):
    """A command-line value, else the one the resumed run started with, else the spec's."""
    return given if given is not None else started if started is not None else spec


def _started_with(options: RunOptions) -> dict:
    """The lr and seed the run in `options.out` started with: resuming with others would silently
    split the data differently (seed) or be overridden by the optimizer's saved state (lr)."""
    try:
        with open(os.path.join(options.out, "resolved.json"), encoding="utf-8") as f:
            started = json.load(f)["overrides"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    for key, given in (("lr", options.lr), ("seed", options.seed)):
        if given is not None and key in started and given != started[key]:
            raise RunError(
                f"the run in {options.out} was started with --{key} {started[key]}; resume it without --{key} or with that value",
                "E606",
            )
    return started


def _prepare_folder(options: RunOptions, source: str, program: Program) -> None:
    """A new run needs a fresh folder; a resumed one needs its checkpoint and the same program."""
    out = options.out
    started = os.path.exists(os.path.join(out, "metrics.csv")) or os.path.exists(os.path.join(out, "last.pt"))
    if options.resume:
        if not os.path.exists(os.path.join(out, "last.pt")):
            raise RunError(f"{out} holds no last.pt to resume from", "E606")
        if _read(os.path.join(out, PROGRAM_FILE)) not in (None, source):
            raise RunError(
                f"the spec changed since the run in {out} started; resume it unchanged or pass --out for a new run",
                "E606",
            )
        for name in os.listdir(out):  # left by a kill during write_atomic
            if name.startswith(".nnspec-") and name.endswith(".tmp"):
                os.remove(os.path.join(out, name))
        return
    if started:
        raise RunError(f"{out} already holds a run; pass --resume to continue it or --out for a new folder", "E604")
    os.makedirs(out, exist_ok=True)
    write_atomic(os.path.join(out, "spec.nn"), program.file.source)
    write_atomic(os.path.join(out, PROGRAM_FILE), source)


def _write_resolved(out: str, train: Settings, namespace: dict, args) -> None:
    """resolved.json: the settings this run used, spec defaults and command-line overrides applied."""
    settings = {
        k: v
        for k, v in namespace.items()
        if k.isupper() and isinstance(v, (bool, int, float, str, list, tuple, dict, type(None)))
    }
    overrides = {k: getattr(args, k) for k in ("epochs", "lr", "seed", "device")}
    resolved = {"train": train.name, "overrides": overrides, "settings": settings}
    write_atomic(os.path.join(out, "resolved.json"), json.dumps(resolved, indent=2) + "\n")


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return None
