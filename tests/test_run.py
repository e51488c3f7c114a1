"""`nnspec run`: resume, kill -9, early stopping, freezing, NaN, compile parity, overfit-batch,
refusals, the run folder, fine-tuning. Small specs on synthetic data, mostly in-process."""

from __future__ import annotations

import csv
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from nnspec import cli  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"


def spec_text(
    *,
    samples=256,
    hidden=16,
    optimizer="SGD(lr=0.1, momentum=0.9)",
    scheduler="CosineAnnealingLR(4)",
    epochs=4,
    extra="",
    batch_size=32,
    metrics='[Accuracy(), F1Score(average="macro")]',
) -> str:
    scheduler_line = f"    scheduler = {scheduler}\n" if scheduler else ""
    return f"""\
data d {{
    source = synthetic(samples={samples}, features=8, classes=3, noise=2.0)
    split = {{train: 0.75, val: 0.25}}
    batch_size = {batch_size}
}}
model Net {{
    input x: [8]
    h = x -> Linear({hidden}) -> ReLU() -> Dropout(0.3)
    output h -> Linear(3)
}}
train {{
    loss = CrossEntropyLoss()
    optimizer = {optimizer}
{scheduler_line}    epochs = {epochs}
    metrics = {metrics}
    device = "cpu"
    seed = 1
{extra}}}
"""


def write(tmp_path: Path, text: str, name: str = "spec.nn") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def nnspec(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def load(path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def model_tensors(path) -> dict:
    return load(path)["model"]


def assert_same_tensors(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def rows(folder) -> list[dict]:
    with open(Path(folder) / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


def snapshot(folder: Path) -> dict:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


# --- 1. resume equals uninterrupted -------------------------------------------------------


@pytest.mark.parametrize(
    "scheduler",
    ["CosineAnnealingLR(4)", "ReduceLROnPlateau(factor=0.5, patience=0)"],
)
def test_resume_equals_uninterrupted(tmp_path, capsys, scheduler):
    spec = write(tmp_path, spec_text(scheduler=scheduler))
    a, b = tmp_path / "A", tmp_path / "B"
    assert nnspec(capsys, "run", spec, "--out", a, "--epochs", 4)[0] == 0
    assert nnspec(capsys, "run", spec, "--out", b, "--epochs", 2)[0] == 0
    assert len(rows(b)) == 2
    code, out, _ = nnspec(capsys, "run", spec, "--out", b, "--resume", "--epochs", 4)
    assert code == 0
    assert "epoch 3" in out and "epoch 1 " not in out  # continued, not restarted
    assert_same_tensors(model_tensors(a / "last.pt"), model_tensors(b / "last.pt"))
    assert (a / "metrics.csv").read_bytes() == (b / "metrics.csv").read_bytes()
    assert len({row["lr"] for row in rows(a)}) > 1  # the scheduler's state mattered
    assert load(a / "last.pt")["scheduler"] == load(b / "last.pt")["scheduler"]


def test_resume_keeps_the_seed_the_run_started_with(tmp_path, capsys):
    spec = write(tmp_path, spec_text(scheduler=None))
    a, b = tmp_path / "A", tmp_path / "B"
    assert nnspec(capsys, "run", spec, "--out", a, "--epochs", 2, "--seed", 5)[0] == 0
    assert nnspec(capsys, "run", spec, "--out", b, "--epochs", 1, "--seed", 5)[0] == 0
    # Without --seed, the resumed run uses the run's seed 5, not the spec's 1: the same split.
    assert nnspec(capsys, "run", spec, "--out", b, "--epochs", 2, "--resume")[0] == 0
    assert_same_tensors(model_tensors(a / "last.pt"), model_tensors(b / "last.pt"))
    assert (a / "metrics.csv").read_bytes() == (b / "metrics.csv").read_bytes()
    before = snapshot(b)
    code, _, err = nnspec(capsys, "run", spec, "--out", b, "--epochs", 3, "--resume", "--seed", 6)
    assert code == 1 and "--seed 5" in err
    code, _, err = nnspec(capsys, "run", spec, "--out", b, "--epochs", 3, "--resume", "--lr", 0.5)
    assert code == 1 and "--lr" in err
    assert snapshot(b) == before


# --- 2. kill -9 ---------------------------------------------------------------------------

KILL_EPOCHS = 30


def _metric_rows(folder: Path) -> int:
    try:
        return max(0, len((folder / "metrics.csv").read_text().splitlines()) - 1)
    except OSError:
        return 0


def _start(spec: str, out: Path, *extra: str) -> subprocess.Popen:
    argv = [sys.executable, "-m", "nnspec", "run", spec, "--out", str(out), "--epochs", str(KILL_EPOCHS), *extra]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=out.parent)


def _kill_after_progress(proc: subprocess.Popen, out: Path, rows_at_least: int, rng: random.Random) -> None:
    deadline = time.monotonic() + 120
    while not ((out / "last.pt").exists() and _metric_rows(out) >= rows_at_least):
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.01)
    time.sleep(rng.uniform(0, 0.15))  # somewhere inside an epoch or a checkpoint write
    assert proc.poll() is None, "the run finished before it could be killed: make the spec slower"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL


def _assert_checkpoints_load(folder: Path) -> None:
    for name in ("last.pt", "best.pt"):
        if (folder / name).exists():
            load(folder / name)


def test_kill_9_then_resume_equals_uninterrupted(tmp_path, capsys):
    # A small spec (10 batches an epoch, no torchmetrics to import) still runs long enough for a
    # kill to land inside an epoch or a checkpoint write, well before the end.
    spec = write(tmp_path, spec_text(samples=400, hidden=32, scheduler="CosineAnnealingLR(30)", metrics="[]"))
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    rng = random.Random()
    proc = _start(spec, killed)
    _kill_after_progress(proc, killed, 2, rng)
    _assert_checkpoints_load(killed)
    done = _metric_rows(killed)
    proc = _start(spec, killed, "--resume")
    _kill_after_progress(proc, killed, done + 2, rng)
    _assert_checkpoints_load(killed)
    assert nnspec(capsys, "run", spec, "--out", killed, "--resume", "--epochs", KILL_EPOCHS)[0] == 0
    assert nnspec(capsys, "run", spec, "--out", whole, "--epochs", KILL_EPOCHS)[0] == 0
    assert_same_tensors(model_tensors(whole / "last.pt"), model_tensors(killed / "last.pt"))
    assert_same_tensors(model_tensors(whole / "best.pt"), model_tensors(killed / "best.pt"))
    assert (whole / "metrics.csv").read_bytes() == (killed / "metrics.csv").read_bytes()
    _assert_checkpoints_load(killed)
    assert not list(killed.glob("*.tmp")) and not list(killed.glob(".*.tmp"))


def test_a_second_run_into_a_running_folder_is_refused_until_the_first_dies(tmp_path, capsys):
    spec = write(tmp_path, spec_text(samples=400, hidden=32, scheduler=None, metrics="[]"))
    out = tmp_path / "run"
    proc = _start(spec, out, "--epochs", "100000")  # still running when the second run looks
    deadline = time.monotonic() + 120
    while _metric_rows(out) < 1:  # an epoch written: the folder is claimed and locked
        assert proc.poll() is None and time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.01)
    code, _, err = nnspec(capsys, "run", spec, "--out", out, "--resume")
    assert code == 1 and f"error[E605]: {out} is in use by process {proc.pid}" in err, err
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    epochs = _metric_rows(out) + 1  # one more than the killed run finished
    assert nnspec(capsys, "run", spec, "--out", out, "--resume", "--epochs", epochs)[0] == 0


def test_stale_temporary_files_are_removed_on_resume(tmp_path, capsys):
    spec = write(tmp_path, spec_text(scheduler=None))
    out = tmp_path / "run"
    assert nnspec(capsys, "run", spec, "--out", out, "--epochs", 1)[0] == 0
    for name in ("last.pt.tmp", "best.pt.tmp", "metrics.csv.tmp", ".nnspec-abc.tmp"):
        (out / name).write_bytes(b"torn by kill -9")
    assert nnspec(capsys, "run", spec, "--out", out, "--epochs", 2, "--resume")[0] == 0
    assert sorted(p.name for p in out.glob("*.tmp")) == [] and not list(out.glob(".*.tmp"))


# --- 3. early stopping --------------------------------------------------------------------


def test_early_stopping_stops_after_patience(tmp_path, capsys):
    spec = write(tmp_path, spec_text(optimizer="SGD(lr=0.0)", scheduler=None, epochs=10, extra="    patience = 2\n"))
    code, out, _ = nnspec(capsys, "run", spec, "--out", tmp_path / "run")
    assert code == 0
    assert len(rows(tmp_path / "run")) == 3  # the first epoch sets the best, then 2 without improvement
    assert "early stop: val_loss has not improved for 2 epochs" in out


# --- 4. frozen layers ---------------------------------------------------------------------


def initial_weights(spec: str) -> dict:
    """The weights fit() starts from: the generated program's own steps, with the spec's seed."""
    from nnspec.compiler.pipeline import check_file
    from nnspec.runtime.execute import load_program
    from nnspec.runtime.run import program_source

    program = check_file(spec).program
    namespace = load_program(program_source(program, next(iter(program.trains.values())), "unused"), spec)
    seed = namespace["SEED"]
    namespace["seed_everything"](seed)
    namespace["prepare_data"](namespace["read_data"](os.path.dirname(spec)), seed)
    return {k: v.clone() for k, v in namespace["build_model"]().state_dict().items()}


def test_frozen_layers_do_not_change(tmp_path, capsys):
    spec = write(tmp_path, spec_text(extra='    freeze = ["h.0"]\n'))
    start = initial_weights(spec)
    assert nnspec(capsys, "run", spec, "--out", tmp_path / "one", "--epochs", 1)[0] == 0
    assert nnspec(capsys, "run", spec, "--out", tmp_path / "three", "--epochs", 3)[0] == 0
    one, three = model_tensors(tmp_path / "one" / "last.pt"), model_tensors(tmp_path / "three" / "last.pt")
    for key in ("h.0.weight", "h.0.bias"):
        assert torch.equal(three[key], start[key]) and torch.equal(one[key], start[key])
    for key in ("output.weight", "output.bias"):
        assert not torch.equal(three[key], start[key]) and not torch.equal(three[key], one[key])


def test_frozen_batch_norm_keeps_its_running_statistics(tmp_path, capsys):
    """A frozen BatchNorm layer trains in eval mode: its running mean and variance stay as loaded."""
    text = spec_text().replace("Linear(16) -> ReLU()", "Linear(16) -> BatchNorm1d() -> ReLU()")
    assert "BatchNorm1d" in text
    trained = write(tmp_path, text, "trained.nn")
    frozen = write(tmp_path, text.replace("    seed = 1\n", '    seed = 1\n    freeze = ["h.1"]\n'), "frozen.nn")
    start = initial_weights(frozen)
    for spec, out in ((trained, "trained"), (frozen, "frozen")):
        assert nnspec(capsys, "run", spec, "--out", tmp_path / out, "--epochs", 2)[0] == 0
    after = {name: model_tensors(tmp_path / name / "last.pt") for name in ("trained", "frozen")}
    for key in ("h.1.running_mean", "h.1.running_var", "h.1.num_batches_tracked", "h.1.weight"):
        assert torch.equal(after["frozen"][key], start[key]), key
        assert not torch.equal(after["trained"][key], start[key]), key
    assert not torch.equal(after["frozen"]["h.0.weight"], start["h.0.weight"])  # the rest still trains


def test_summary_applies_the_train_sections_freeze(tmp_path, capsys):
    plain = json.loads(nnspec(capsys, "summary", write(tmp_path, spec_text(), "plain.nn"), "--format", "json")[1])
    frozen = json.loads(
        nnspec(capsys, "summary", write(tmp_path, spec_text(extra='    freeze = ["h.*"]\n')), "--format", "json")[1]
    )
    layers = {layer["name"]: layer for layer in frozen["layers"]}
    assert layers["h.0"]["trainable"] is False and layers["output"]["trainable"] is True
    assert plain["trainable_params"] == plain["total_params"] == 195
    assert frozen["trainable_params"] == 51 and frozen["non_trainable_params"] == 144
    text = nnspec(capsys, "summary", str(tmp_path / "spec.nn"))[1]
    assert re.search(r"h\.0 \(Linear\)\s+\(N, 16\)\s+144\s+no", text)


# --- 5. a NaN loss ------------------------------------------------------------------------

REGRESSION = """\
data d {
    source = synthetic(task="regression", samples=256, features=8)
    split = {train: 0.75, val: 0.25}
    batch_size = 32
}
model Net {
    input x: [8]
    h = x -> Linear(16) -> ReLU()
    output h -> Linear(1)
}
train {
    loss = MSELoss()
    optimizer = SGD(lr=LR)
    epochs = 10
    device = "cpu"
}
"""


def test_a_nan_loss_in_the_first_epoch_stops_cleanly(tmp_path, capsys):
    spec = write(tmp_path, spec_text(scheduler=None))
    code, _, err = nnspec(capsys, "run", spec, "--out", tmp_path / "run", "--lr", 1e30)
    assert code == 1
    assert re.search(r"error\[E610\]: the loss is (nan|inf|-inf) at epoch 1, batch \d+", err)
    assert "no epoch finished" in err and "Traceback" not in err
    assert not (tmp_path / "run" / "last.pt").exists()


def test_a_diverging_run_keeps_its_last_good_checkpoint(tmp_path, capsys):
    # lr 0.3 on this data: epoch 1 finishes with huge but finite losses, epoch 2 overflows.
    spec = write(tmp_path, REGRESSION.replace("LR", "0.3"))
    out = tmp_path / "run"
    code, _, err = nnspec(capsys, "run", spec, "--out", out)
    assert code == 1 and "Traceback" not in err
    match = re.search(r"the (validation )?loss is (nan|inf|-inf) (at|after) epoch (\d+)(, batch \d+)?", err)
    assert match and int(match[4]) >= 2, err
    assert f"the last good checkpoint is {out / 'last.pt'}" in err
    checkpoint = load(out / "last.pt")
    assert checkpoint["state"]["epoch"] == len(rows(out)) >= 1
    assert all(torch.isfinite(t).all() for t in checkpoint["model"].values())
    load(out / "best.pt")


# --- 6. compiled and run agree ------------------------------------------------------------


def test_compiled_program_and_run_agree(tmp_path, capsys):
    spec = write(tmp_path, spec_text(epochs=3))
    program = tmp_path / "train_it.py"
    assert nnspec(capsys, "compile", spec, "-o", program)[0] == 0
    proc = subprocess.run(
        [sys.executable, str(program), "--epochs", "3", "--out", str(tmp_path / "X")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert nnspec(capsys, "run", spec, "--epochs", 3, "--out", tmp_path / "Y")[0] == 0
    x, y = rows(tmp_path / "X"), rows(tmp_path / "Y")
    assert len(x) == len(y) == 3
    for column in ("train_loss", "val_loss"):
        assert [float(r[column]) for r in x] == [float(r[column]) for r in y]


# --- 7. --overfit-batch -------------------------------------------------------------------


def test_overfit_batch_on_a_learnable_spec(tmp_path, capsys):
    spec = write(tmp_path, spec_text())  # CosineAnnealingLR(4): off for --overfit-batch
    out = tmp_path / "of"
    code, stdout, _ = nnspec(capsys, "run", spec, "--overfit-batch", "--out", out, "--epochs", 60)
    assert code == 0
    assert "the model can fit one batch" in stdout
    assert len(rows(out)) == 60
    assert {r["lr"] for r in rows(out)} == {"0.1"}  # a constant learning rate


def test_overfit_batch_on_a_spec_that_cannot_learn(tmp_path, capsys, monkeypatch):
    from nnspec.runtime import run

    def load_program(source, path):  # a shorter minimum than OVERFIT_EPOCHS (200) for the test
        namespace = original(source, path)
        assert namespace["OVERFIT_EPOCHS"] == 200
        namespace["OVERFIT_EPOCHS"] = 12
        return namespace

    original = run.load_program
    monkeypatch.setattr(run, "load_program", load_program)
    spec = write(tmp_path, spec_text(optimizer="SGD(lr=0.0)", extra="    patience = 1\n"))
    code, stdout, _ = nnspec(capsys, "run", spec, "--overfit-batch", "--out", tmp_path / "of")
    assert code == 1
    assert "does NOT fit one batch" in stdout
    assert len(rows(tmp_path / "of")) == 12  # max(the spec's 4 epochs, the minimum); no early stop


def test_overfit_verdict_allows_label_smoothing():
    smoothed = [
        {"train_loss": 2.3, "val_loss": 2.2, "val_accuracy": 0.1},
        {"train_loss": 0.3, "val_loss": 0.29, "val_accuracy": 1.0},
    ]
    assert cli._overfit_verdict(smoothed) == 0
    assert cli._overfit_verdict([smoothed[0], {**smoothed[1], "val_accuracy": 0.97}]) == 1
    assert cli._overfit_verdict([{"train_loss": 30000.0}, {"train_loss": 1.0, "val_loss": 664.0}]) == 1
    assert cli._overfit_verdict([{"train_loss": 30000.0}, {"train_loss": 1.0, "val_loss": 250.0}]) == 0


# --- 8. refusals --------------------------------------------------------------------------


def test_an_existing_run_folder_is_never_overwritten(tmp_path, capsys):
    spec = write(tmp_path, spec_text(epochs=2))
    out = tmp_path / "run"
    assert nnspec(capsys, "run", spec, "--out", out)[0] == 0
    before = snapshot(out)
    time.sleep(0.01)
    code, _, err = nnspec(capsys, "run", spec, "--out", out)
    assert code == 1 and "already holds a run" in err and "--resume" in err
    assert snapshot(out) == before


@pytest.mark.parametrize("make", [True, False])
def test_resume_without_a_run_exits_1(tmp_path, capsys, make):
    spec = write(tmp_path, spec_text())
    out = tmp_path / "empty"
    if make:
        out.mkdir()
    code, _, err = nnspec(capsys, "run", spec, "--out", out, "--resume")
    assert code == 1 and "no last.pt" in err
    assert not make or list(out.iterdir()) == []


def test_resume_after_editing_the_spec_exits_1(tmp_path, capsys):
    spec = write(tmp_path, spec_text(epochs=2))
    out = tmp_path / "run"
    assert nnspec(capsys, "run", spec, "--out", out)[0] == 0
    before = snapshot(out)
    write(tmp_path, spec_text(epochs=2, hidden=32))
    code, _, err = nnspec(capsys, "run", spec, "--out", out, "--resume", "--epochs", 4)
    assert code == 1 and "the spec changed" in err
    assert snapshot(out) == before


def test_epochs_must_be_positive(tmp_path, capsys):
    assert nnspec(capsys, "run", write(tmp_path, spec_text()), "--epochs", 0)[0] == 2


# --- 9. the run folder --------------------------------------------------------------------


def test_the_run_folder(tmp_path, capsys):
    spec = write(tmp_path, spec_text(epochs=2))
    out = tmp_path / "run"
    code, stdout, _ = nnspec(capsys, "run", spec, "--out", out)
    assert code == 0 and f"run folder: {out}" in stdout
    names = {p.name for p in out.iterdir()}
    assert len(names & {"graph.svg", "graph.dot"}) == 1  # the model drawn (DOT without Graphviz)
    assert names - {"graph.svg", "graph.dot"} == {
        ".nnspec-run",  # the folder is nnspec's
        ".nnspec-lock",  # held while a run uses it
        "metrics.csv",
        "last.pt",
        "best.pt",
        "spec.nn",
        "program.py",
        "resolved.json",
        "curves.png",
    }
    with open(out / "metrics.csv", newline="") as f:
        header = next(csv.reader(f))
    assert header == [
        "epoch",
        "train_loss",
        "val_loss",
        "train_accuracy",
        "train_f1_score",
        "val_accuracy",
        "val_f1_score",
        "lr",
    ]
    assert [r["epoch"] for r in rows(out)] == ["1", "2"]
    png = (out / "curves.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
    assert (out / "spec.nn").read_text() == Path(spec).read_text()
    compile((out / "program.py").read_text(), "program.py", "exec")
    resolved = json.loads((out / "resolved.json").read_text())
    assert resolved["overrides"] == {"epochs": 2, "lr": 0.1, "seed": 1, "device": "cpu"}
    for name in ("last.pt", "best.pt"):
        checkpoint = load(out / name)
        assert {"model", "optimizer", "scheduler", "state", "rng", "classes", "data"} <= checkpoint.keys()


# --- 10. fine-tuning ----------------------------------------------------------------------


@pytest.fixture
def iris_copy(tmp_path):
    """examples/ in tmp: iris.nn, iris_finetune.nn and the data; runs/ beside it."""
    examples = tmp_path / "examples"
    (examples / "data").mkdir(parents=True)
    shutil.copy(EXAMPLES / "data" / "iris.csv", examples / "data" / "iris.csv")
    for name in ("iris.nn", "iris_finetune.nn"):
        shutil.copy(EXAMPLES / name, examples / name)
    return examples


def test_finetune_example(iris_copy, capsys):
    runs = iris_copy.parent / "runs"
    assert nnspec(capsys, "run", iris_copy / "iris.nn", "--out", runs / "iris", "--epochs", 2)[0] == 0
    code, out, err = nnspec(capsys, "run", iris_copy / "iris_finetune.nn", "--out", runs / "finetune", "--epochs", 3)
    assert code == 0, err
    loaded = os.path.normpath(runs / "iris" / "best.pt")
    assert f"from {loaded}: 4 tensors loaded, 0 missing, 0 of another shape" in out
    pretrained = model_tensors(runs / "iris" / "best.pt")
    tuned = model_tensors(runs / "finetune" / "last.pt")
    for key in ("h.0.weight", "h.0.bias"):  # frozen: exactly the loaded weights
        assert torch.equal(tuned[key], pretrained[key])
    assert not torch.equal(tuned["output.weight"], pretrained["output.weight"])
    assert len(rows(runs / "finetune")) == 3


def test_finetune_from_another_architecture(iris_copy, capsys):
    runs = iris_copy.parent / "runs"
    wide = (iris_copy / "iris.nn").read_text().replace("Linear(16)", "Linear(32)")
    assert "Linear(32)" in wide
    assert nnspec(capsys, "run", write(iris_copy, wide, "wide.nn"), "--out", runs / "iris", "--epochs", 1)[0] == 0
    finetune = (iris_copy / "iris_finetune.nn").read_text()
    code, out, err = nnspec(capsys, "run", iris_copy / "iris_finetune.nn", "--out", runs / "refused", "--epochs", 1)
    assert code == 1 and "Traceback" not in err
    assert "3 of another shape" in out
    assert "shape differs: h.0.weight (32, 4) -> (16, 4)" in out
    assert "shape differs: h.0.bias (32,) -> (16,)" in out
    assert "shape differs: output.weight (3, 32) -> (3, 16)" in out
    assert "skip_mismatched = true" in err
    assert not (runs / "refused" / "last.pt").exists()
    skipping = write(iris_copy, finetune.replace("train {", "train {\n    skip_mismatched = true"), "skip.nn")
    code, out, err = nnspec(capsys, "run", skipping, "--out", runs / "skipped", "--epochs", 1)
    assert code == 0, err
    assert ": 1 tensors loaded, 0 missing, 3 of another shape" in out
    assert model_tensors(runs / "skipped" / "last.pt")["h.0.weight"].shape == (16, 4)


def test_finetune_without_the_checkpoint(iris_copy, capsys):
    code, _, err = nnspec(capsys, "run", iris_copy / "iris_finetune.nn", "--out", iris_copy.parent / "x", "--epochs", 1)
    assert code == 1 and "no such checkpoint" in err and "Traceback" not in err


def test_a_run_folder_holds_a_drawing_of_its_model(tmp_path, capsys, monkeypatch):
    spec = write(tmp_path, spec_text(scheduler=None, epochs=1, metrics="[]"))
    code, stdout, _ = nnspec(capsys, "run", spec, "--out", tmp_path / "svg")
    drawn = (tmp_path / "svg" / "graph.svg").exists() or (tmp_path / "svg" / "graph.dot").exists()
    assert code == 0 and drawn and "graph." in stdout
    monkeypatch.setenv("PATH", "")  # no Graphviz: the DOT text instead
    assert nnspec(capsys, "run", spec, "--out", tmp_path / "dot")[0] == 0
    assert (tmp_path / "dot" / "graph.dot").read_text().startswith("# Generated by nnspec")
