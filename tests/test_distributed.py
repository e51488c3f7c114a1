"""Training under torchrun with 2 gloo processes on the CPU: equal to one process, bit-identical
across launches, exact validation over an uneven split, kill -9 and restarts; every launch is a
subprocess with a time limit."""

from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from nnspec import cli  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
LAUNCH_SECONDS = 240  # a launch that takes longer hangs
EPOCHS = 4
# 1203 samples: 902 train (57 batches of 16, the last of 6), 301 validation: an odd count,
# so the two ranks evaluate 151 and 150 samples
SPEC = f"""\
data d {{
    source = synthetic(samples=1203, features=8, classes=3, noise=2.0)
    split = {{train: 0.75, val: 0.25}}
    batch_size = 16
}}
model Net {{
    input x: [8]
    h = x -> Linear(32) -> ReLU()
    output h -> Linear(3)
}}
train {{
    loss = CrossEntropyLoss()
    optimizer = SGD(lr=0.05, momentum=0.9)
    scheduler = CosineAnnealingLR(8)
    epochs = {EPOCHS}
    metrics = [Accuracy(), F1Score(average="macro")]
    device = "cpu"
    seed = 3
}}
"""
# One process and two sum a batch's gradient in another order: float32 rounding apart.
TOLERANCE = 1e-5


def nnspec(*argv, cwd, **popen):
    command = [sys.executable, "-m", "nnspec", *map(str, argv)]
    return subprocess.Popen(
        command, cwd=cwd, env=ENV, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen
    )


def finished(process) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=LAUNCH_SECONDS)
    return process.returncode, out, err


def rows(folder: Path) -> list[dict]:
    with open(folder / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


def weights(folder: Path) -> dict:
    return torch.load(folder / "last.pt", map_location="cpu", weights_only=True)["model"]


def assert_same_weights(a: Path, b: Path) -> None:
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


pytestmark = pytest.mark.usefixtures("one_thread")  # tiny tensors, a shared machine


@pytest.fixture(scope="module")
def spec(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("ddp")
    (folder / "spec.nn").write_text(SPEC)
    return folder / "spec.nn"


@pytest.fixture(scope="module")
def two(spec) -> Path:
    """The uninterrupted run with 2 processes every other run is compared with."""
    code, out, err = finished(nnspec("run", spec, "--nproc", 2, "--out", "two", cwd=spec.parent))
    assert code == 0, err
    return spec.parent / "two"


def test_two_processes_equal_one_with_the_same_global_batch(spec, two, capsys):
    """batch_size is the global batch: 57 steps an epoch either way; validation metrics over
    301 samples split 151/150 equal one process's."""
    assert cli.main(["run", str(spec), "--out", str(spec.parent / "one")]) == 0
    one, both = rows(spec.parent / "one"), rows(two)
    assert len(one) == len(both) == EPOCHS
    for a, b in zip(one, both):
        assert a.keys() == b.keys()
        for column in a:
            assert float(b[column]) == pytest.approx(float(a[column]), rel=TOLERANCE, abs=TOLERANCE)
    wa, wb = weights(spec.parent / "one"), weights(two)
    assert all(torch.allclose(wa[k], wb[k], atol=TOLERANCE) for k in wa)


def test_the_compiled_program_under_torchrun_writes_the_same_run(spec, two):
    """Another launch, straight through torchrun: the same metrics.csv and bit-identical weights."""
    folder = spec.parent
    code, _, err = finished(nnspec("compile", spec, "-o", "program.py", cwd=folder))
    assert code == 0, err
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    command = [*torchrun, "program.py", "--out", "direct"]
    done = subprocess.run(command, cwd=folder, env=ENV, capture_output=True, text=True, timeout=LAUNCH_SECONDS)
    assert done.returncode == 0, done.stderr
    assert (folder / "direct" / "metrics.csv").read_text() == (two / "metrics.csv").read_text()
    assert_same_weights(folder / "direct", two)


def wait_for_epochs(folder: Path, process, epochs: int) -> None:
    """Until metrics.csv has `epochs` rows (the run must still be going)."""
    deadline = time.monotonic() + LAUNCH_SECONDS  # a hang fails instead of waiting forever
    while not (folder / "metrics.csv").exists() or len(rows(folder)) < epochs:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.05)


def test_kill_9_of_the_launcher_then_resume_equals_the_uninterrupted_run(spec, two, capsys):
    folder = spec.parent
    started = nnspec("run", spec, "--nproc", 2, "--out", "killed", cwd=folder, start_new_session=True)
    wait_for_epochs(folder / "killed", started, 2)
    os.killpg(started.pid, signal.SIGKILL)  # nnspec and torchrun; the workers die with them
    started.communicate(timeout=LAUNCH_SECONDS)
    done = rows(folder / "killed")
    assert len(done) < EPOCHS
    # resumed in one process: the checkpoint holds the states of 2
    assert cli.main(["run", str(spec), "--out", str(folder / "killed"), "--resume"]) == 1
    assert capsys.readouterr().err.startswith("error[E633]")
    assert rows(folder / "killed") == done
    code, _, err = finished(nnspec("run", spec, "--nproc", 2, "--out", "killed", "--resume", cwd=folder))
    assert code == 0, err
    assert (folder / "killed" / "metrics.csv").read_text() == (two / "metrics.csv").read_text()
    assert_same_weights(folder / "killed", two)


def test_a_killed_worker_restarts_from_the_last_checkpoint(spec, two):
    folder = spec.parent
    started = nnspec("run", spec, "--nproc", 2, "--max-restarts", 1, "--out", "restarted", cwd=folder)
    wait_for_epochs(folder / "restarted", started, 2)
    rank0 = int((folder / "restarted" / ".nnspec-lock").read_text())  # the lock holder
    os.kill(rank0, signal.SIGKILL)
    code, out, err = finished(started)
    assert code == 0, err
    assert "resuming" in out
    assert (folder / "restarted" / "metrics.csv").read_text() == (two / "metrics.csv").read_text()
    assert_same_weights(folder / "restarted", two)


def test_a_worker_that_dies_without_a_message_is_e635(spec):
    """Also: sync_batchnorm on the CPU. torch's SyncBatchNorm runs on CUDA only: under gloo the
    run goes on and says so (launched with --master-port, as on several machines)."""
    text = SPEC.replace("ReLU()", "ReLU() -> BatchNorm1d()").replace("seed = 3", "seed = 3\n    sync_batchnorm = true")
    (spec.parent / "died.nn").write_text(text.replace("metrics = [", "# ["))  # starts sooner
    with socket.socket() as probe:  # a free port: the rendezvous of --master-port, not --standalone
        probe.bind(("", 0))
        port = probe.getsockname()[1]
    started = nnspec("run", "died.nn", "--nproc", 2, "--master-port", port, "--out", "died", cwd=spec.parent)
    wait_for_epochs(spec.parent / "died", started, 1)
    os.kill(int((spec.parent / "died" / ".nnspec-lock").read_text()), signal.SIGKILL)
    code, out, err = finished(started)
    assert (code, err.split(":")[0]) == (1, "error[E635]")
    assert "sync_batchnorm: CUDA only" in out


def test_more_processes_than_samples_in_a_batch_is_refused(spec):
    small = spec.parent / "small.nn"
    small.write_text(SPEC.replace("batch_size = 16", "batch_size = 1").replace("metrics = [", "# ["))
    code, _, err = finished(nnspec("run", small, "--nproc", 2, "--out", "small", cwd=spec.parent))
    assert (code, err.split(":")[0]) == (1, "error[E631]")


@pytest.mark.parametrize(
    "argv",
    [
        ["--nproc", "0"],
        ["--nproc", "2", "--node-rank", "1"],
        ["--nproc", "2", "--master-port", "70000"],
        ["--max-restarts", "1"],
        ["--nproc", "2", "--nnodes", "2", "--node-rank", "1"],
    ],
)
def test_launch_options_out_of_range_are_usage_errors(spec, capsys, argv):
    assert cli.main(["run", str(spec), "--out", str(spec.parent / "never"), *argv]) == 2
    assert capsys.readouterr().err.startswith("error[E634]")
    assert not (spec.parent / "never").exists()


def test_a_port_in_use_is_refused_before_starting(spec, capsys):
    with socket.socket() as taken:
        taken.bind(("", 0))
        taken.listen()
        port = taken.getsockname()[1]
        argv = ["run", str(spec), "--nproc", "2", "--master-port", str(port), "--out", str(spec.parent / "port")]
        assert cli.main(argv) == 1
    assert capsys.readouterr().err.startswith("error[E630]")
    assert not (spec.parent / "port").exists()


def test_streamed_data_under_two_processes_equals_one_process_in_memory(spec, capsys):
    """in_memory = false with a DataLoader worker per rank: each takes its part of every batch
    of the same epoch order; accumulate = 2 steps once per 2 global batches either way."""
    import numpy as np

    folder, generator = spec.parent, np.random.default_rng(0)
    np.save(folder / "x.npy", generator.normal(size=(301, 8)).astype(np.float32))
    np.save(folder / "y.npy", generator.integers(0, 3, size=301))
    text = SPEC.replace(
        "synthetic(samples=1203, features=8, classes=3, noise=2.0)", 'numpy_arrays("x.npy", targets_path="y.npy")'
    )
    text = text.replace(f"epochs = {EPOCHS}", "epochs = 2").replace("seed = 3", "seed = 3\n    accumulate = 2")
    (folder / "memory.nn").write_text(text)
    (folder / "streamed.nn").write_text(
        text.replace("batch_size = 16", "batch_size = 16\n    in_memory = false\n    num_workers = 1")
    )
    assert cli.main(["run", str(folder / "memory.nn"), "--out", str(folder / "memory")]) == 0
    code, _, err = finished(nnspec("run", "streamed.nn", "--nproc", 2, "--out", "streamed", cwd=folder))
    assert code == 0, err
    for a, b in zip(rows(folder / "memory"), rows(folder / "streamed"), strict=True):
        assert {k: float(v) for k, v in b.items()} == pytest.approx(
            {k: float(v) for k, v in a.items()}, rel=TOLERANCE, abs=TOLERANCE
        )
