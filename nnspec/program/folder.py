"""The run folder: owned (never a folder of someone else's files), locked while a run uses it,
and, on --resume, the options the run started with."""

import os

import torch

from nnspec.program.distributed import rank
from nnspec.program.errors import DataError

# Settings: each program writes the spec's values here.
SCHEDULER_STEPS = None  # "batch": a per-batch schedule has a fixed length

MARK = ".nnspec-run"  # written into every run folder nnspec makes
LOCK = ".nnspec-lock"  # held while a run uses the folder; its text is the holder's process id
RUN_FILES = {"metrics.csv", "last.pt", "best.pt", "test.json", "spec.nn", "program.py"}
RUN_FILES |= {
    "resolved.json",
    "curves.png",
    "graph.svg",
    "graph.dot",
    "log.txt",
    MARK,
    LOCK,
}
_HELD = {}  # folder -> [open lock file, users]: one process takes a folder's lock once


class RunFolder:
    """`with RunFolder(args):` the folder is this run's; `args` gets the resumed run's options
    and, for the others still unset, `args.defaults` (the spec's)."""

    def __init__(self, args):
        self.args, self.out = args, os.path.abspath(args.out)

    def __enter__(self):
        if self.args.resume:  # refused, the folder is left as it was: check first
            _resumed_options(self.args)
        if rank() == 0:  # under torchrun the others only read the folder
            _claim(self.out, self.args.resume)
        for name, default in self.args.defaults.items():
            if getattr(self.args, name) is None:
                setattr(self.args, name, default)
        return self.args

    def __exit__(self, *exc):
        if self.out not in _HELD:
            return
        held = _HELD[self.out]
        held[1] -= 1
        if held[1] == 0:
            held[0].close()  # closing the file releases its lock
            del _HELD[self.out]


def _claim(out, resume):
    if out in _HELD:
        _HELD[out][1] += 1
        return
    if os.path.exists(out) and not os.path.isdir(out):
        raise DataError("E603", f"{out}: a file stands where the run folder should be")
    foreign = _foreign_files(out)
    if foreign:
        more = f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        shown = ", ".join(foreign[:5]) + more
        message = f"{out} holds files nnspec did not write ({shown}); choose a new folder with --out"
        raise DataError("E604", message)
    _ready(out, resume)  # a refusal leaves the folder as it was
    os.makedirs(out, exist_ok=True)
    _HELD[out] = [_lock(out), 1]
    if resume:
        for name in os.listdir(out):  # left by a kill during a write
            if name.endswith(".tmp"):
                os.remove(os.path.join(out, name))
    open(os.path.join(out, MARK), "a").close()


def _foreign_files(out):
    """Files of a folder nnspec did not make (a folder without its mark that is not empty)."""
    if not os.path.isdir(out) or os.path.exists(os.path.join(out, MARK)):
        return []
    # RUN_FILES alone: an interrupted start
    return sorted(name for name in os.listdir(out) if name not in RUN_FILES)


def _lock(out):
    """The folder's lock, taken at once or refused with the holder's process id; a lock whose
    holder died is free again (the system releases it with the process)."""
    held = open(os.path.join(out, LOCK), "a+")
    try:
        import fcntl  # POSIX: elsewhere the folder is not locked
    except ImportError:
        return held
    try:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        held.seek(0)
        holder = held.read().strip() or "another process"
        held.close()
        message = f"is in use by process {holder}; wait for it or choose another --out"
        raise DataError("E605", f"{out} {message}") from None
    held.truncate(0)
    held.write(str(os.getpid()))
    held.flush()
    return held


def _ready(out, resume):
    """A new run needs a folder without a run; a resumed run its last.pt."""
    last = os.path.join(out, "last.pt")
    if resume and not os.path.exists(last):
        raise DataError("E606", f"{out} holds no last.pt to resume from")
    started = os.path.exists(last) or os.path.exists(os.path.join(out, "metrics.csv"))
    if started and not resume:
        message = f"{out} already holds a run; pass --resume to continue it or --out for a new one"
        raise DataError("E604", message)


REASONS = {
    "lr": "the optimizer keeps its learning rate",
    "seed": "the seed splits the data",
    "schedule": "the per-batch schedule is as long as the epochs it was built for",
}


def _resumed_options(args):
    """The options the run started with, where the command line gives none; another value is
    refused where it would change the run (a seed splits the data otherwise, the optimizer keeps
    its learning rate, a per-batch schedule has its length)."""
    path = os.path.join(args.out, "last.pt")
    try:
        started = torch.load(path, map_location="cpu", weights_only=True)
        started = started["state"]["options"]
    except Exception:  # a torn or foreign last.pt: fit() says what is wrong with it
        return
    fixed = ("lr", "seed", "epochs") if SCHEDULER_STEPS == "batch" else ("lr", "seed")
    for name in ("epochs", "lr", "seed"):
        given = getattr(args, name)
        if given is None:
            setattr(args, name, started[name])
        elif name in fixed and given != started[name]:
            why = REASONS[name] if name != "epochs" else REASONS["schedule"]
            message = f"the run started with --{name} {started[name]} ({why})"
            raise DataError("E606", f"{path}: {message}; resume with that value")
