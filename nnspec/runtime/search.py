"""`nnspec search`: run the trials of a search section; every trial's spec is linted first."""

from __future__ import annotations

import csv
import io
import os
import shutil
import time
from types import SimpleNamespace

from nnspec.compiler.ir import Program, Settings
from nnspec.compiler.pipeline import check_source
from nnspec.compiler.searchable import searchable
from nnspec.compiler.settings import pick
from nnspec.diagnostics import render_concise
from nnspec.errors import UserError
from nnspec.files import write_atomic
from nnspec.program.folder import RunFolder
from nnspec.record import record
from nnspec.runtime.report import LineReport
from nnspec.runtime.run import RunError, RunOptions, run
from nnspec.runtime.trials import SearchError, dimensions, trial_source, trial_values


@record
class Outcome:
    """What one search trial gave."""

    number: int
    values: dict
    status: str  # "ok", "skipped: <reason>" or "failed: <reason>"
    best: float | None = None
    epochs: int = 0
    seconds: float = 0.0


def run_search(program: Program, search: Settings, out: str, say) -> list[Outcome]:
    """Run every trial into out/trial_<n>; write out/search.csv and copy the best best.pt."""
    train = pick(search, "train", program.trains)
    with RunFolder(SimpleNamespace(out=out, resume=False, defaults={})):
        if os.path.exists(os.path.join(out, "search.csv")):
            raise RunError(f"{out} already holds a search; pass --out for a new one", "E604")
        return _search(program, search, train, out, say)


def _search(program: Program, search: Settings, train: Settings, out: str, say) -> list[Outcome]:
    goal = search.values["goal"]
    metric = goal.args()["metric"] if goal is not None else "val_loss"
    maximize = goal is not None and goal.kind.name == "maximize"
    owners = _owners(train, program)
    sections = {
        "model": pick(train, "model", program.models).name,
        "train": train.name,
        "data": _data_name(train, program),
    }
    try:
        plans = trial_values(search, train.values["seed"])
    except SearchError as e:
        raise RunError(str(e)) from None
    outcomes = []
    for number, values in enumerate(plans, 1):
        folder = os.path.join(out, f"trial_{number}")
        text = trial_source(program.file, owners, sections, values, folder)
        outcome = _trial(number, values, text, folder, train.name, metric, maximize)
        outcomes.append(outcome)
        say(_line(outcome, len(plans), metric))
        write_atomic(os.path.join(out, "search.csv"), _table(outcomes, list(dimensions(search)), metric))
    _keep_best(outcomes, out, maximize, say)
    return outcomes


def _owners(train: Settings, program: Program) -> dict:
    found = {}
    for name, (owner, param) in searchable(train, program).items():
        call = train.values.get(owner)
        params = call.kind.params if owner in ("optimizer", "scheduler", "loss") and call is not None else ()
        found[name] = (owner, next((i for i, p in enumerate(params) if p.name == param.name), None))
    return found


def _data_name(train: Settings, program: Program) -> str | None:
    data = pick(train, "data", program.data)
    return data.name if data is not None else None


def _trial(number: int, values: dict, text: str, folder: str, train_name: str, metric: str, maximize: bool) -> Outcome:
    """One trial, its spec `text` checked as the file folder/spec.nn (where it is written)."""
    result = check_source(text, os.path.join(folder, "spec.nn"))
    errors = [d for d in result.diagnostics if d.is_error]
    if errors:
        os.makedirs(folder, exist_ok=True)
        write_atomic(os.path.join(folder, "spec.nn"), text)
        return Outcome(number, values, f"skipped: {render_concise(errors[0])}")
    started = time.perf_counter()
    log = io.StringIO()
    try:
        rows = run(result.program, result.program.trains[train_name], RunOptions(folder), LineReport(log))
    except UserError as e:  # the search goes on; search.csv says why this trial failed
        return Outcome(number, values, f"failed: {e.render()}", seconds=time.perf_counter() - started)
    finally:
        if os.path.isdir(folder):
            write_atomic(os.path.join(folder, "log.txt"), log.getvalue())
    scores = [row[metric] for row in rows if metric in row]
    best = (max if maximize else min)(scores) if scores else None
    return Outcome(number, values, "ok", best, len(rows), time.perf_counter() - started)


def _line(o: Outcome, total: int, metric: str) -> str:
    values = " ".join(f"{k}={_show(v)}" for k, v in o.values.items())
    result = f"best {metric} {o.best:.4g} ({o.epochs} epochs, {o.seconds:.1f} s)" if o.status == "ok" else o.status
    return f"trial {o.number}/{total}  {values}: {result}"


def _show(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _table(outcomes: list[Outcome], names: list[str], metric: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["trial", "status", *names, f"best_{metric}", "epochs_run", "seconds"])
    for o in outcomes:
        best = "" if o.best is None else o.best
        writer.writerow([o.number, o.status, *(o.values[n] for n in names), best, o.epochs, f"{o.seconds:.2f}"])
    return buffer.getvalue()


def _keep_best(outcomes: list[Outcome], out: str, maximize: bool, say) -> None:
    done = [o for o in outcomes if o.best is not None]
    if not done:
        say("no trial finished")
        return
    ranked = sorted(done, key=lambda o: o.best, reverse=maximize)
    best = ranked[0]
    tmp = os.path.join(out, "best.pt.tmp")
    shutil.copyfile(os.path.join(out, f"trial_{best.number}", "best.pt"), tmp)
    os.replace(tmp, os.path.join(out, "best.pt"))
    say("top trials:")
    for o in ranked[:5]:
        say("  " + " ".join(f"{k}={_show(v)}" for k, v in o.values.items()) + f"  -> {o.best:.4g} (trial {o.number})")
    say(f"best trial: {best.number}; its best.pt is copied to {os.path.join(out, 'best.pt')}")
