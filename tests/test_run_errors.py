"""The run half's error cases, through the CLI as a user meets them: files, commands, expected
exit and code. No case may exit 123 (a bug in nnspec) or print a traceback.

Each case is a table row: the files it writes (a spec, data), then steps; a step is the argv of
one `nnspec` command with the exit it must give and the code its message must carry (None: no
code expected), or a check on the files the steps wrote. Paths in argv are relative to the
case's folder, which is the working directory.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import numpy as np
import pytest
import torch

from nnspec import cli
from tests.timeouts import time_limit

SPEC = """\
data d {{
    source = {source}
{data}}}
model M {{
    input x: {input}
{body}}}
train {{
    loss = {loss}
    optimizer = SGD(lr=0.1)
    epochs = 2
    device = "cpu"
    seed = 1
{train}}}
"""


def spec(source='csv("data.csv")', data='    target = "label"\n', input="[2]", body=None, loss=None, train=""):
    body = body or "    output x -> Linear(8) -> ReLU() -> Linear(3)\n"
    return SPEC.format(source=source, data=data, input=input, body=body, loss=loss or "CrossEntropyLoss()", train=train)


def table(header: str, rows: int, row) -> str:
    return header + "\n" + "".join(row(i) + "\n" for i in range(rows))


DATA = table("a,b,label", 60, lambda i: f"{i % 7},{(i * 3) % 5},{'xyz'[i % 3]}")
SWAPPED = table("b,a,label", 60, lambda i: f"{(i * 3) % 5},{i % 7},{'xyz'[i % 3]}")  # the same samples
TOKENS = table("t1,t2,t3,label", 60, lambda i: f"{i % 9},{(i + 4) % 9},{(2 * i) % 9},{i % 2}")


def npz(**arrays) -> bytes:
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def torch_file(value) -> bytes:
    import io

    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


@dataclass
class Case:
    files: dict
    steps: list = field(default_factory=list)  # (argv, exit, code) or a callable(folder)


def same_file(a: str, b: str):
    def check(folder):
        assert (folder / a).read_bytes() == (folder / b).read_bytes(), f"{a} and {b} differ"

    return check


def same_test_results(run: str, evaluated_output: str):
    """`nnspec evaluate`'s numbers equal the run's own test.json."""

    def check(folder):
        import json

        recorded = json.loads((folder / run / "test.json").read_text())
        assert abs(recorded["test_loss"] - float(evaluated_output)) <= 1e-3 * abs(recorded["test_loss"])

    return check


RUN = ["run", "spec.nn", "--out", "run"]
PREDICT = ["predict", "spec.nn", "--checkpoint", "run/best.pt", "--input", "data.csv", "--output", "p.csv"]


def _header_is(path, header: list) -> None:
    lines = path.read_text().splitlines()
    assert lines[0].split(",") == header and all(len(line.split(",")) == len(header) for line in lines)


CASES = {
    # issue: the data-model-loss contract, again when the program loads data
    "long_input_from_csv_trains": Case(
        {
            "spec.nn": spec(input="long[3]", body="    output x -> Embedding(9, 4) -> Flatten() -> Linear(2)\n"),
            "data.csv": TOKENS,
        },
        [(RUN, 0, None)],
    ),
    "symbolic_input_size_trains": Case(
        {
            "spec.nn": spec(
                'numpy_arrays("seq.npz")', "", "[T, 4]", "    output x -> LSTM(8) -> LastStep() -> Linear(2)\n"
            ),
            "seq.npz": npz(
                features=np.random.RandomState(0).randn(40, 5, 4).astype("float32"), targets=np.arange(40) % 2
            ),
        },
        [(RUN, 0, None)],
    ),
    "class_targets_of_two_per_sample": Case(
        {
            "spec.nn": spec('numpy_arrays("pairs.npz")', "", "[3]"),
            "pairs.npz": npz(features=np.zeros((12, 3), "float32"), targets=np.zeros((12, 2), "int64")),
        },
        [(RUN, 1, "E517")],
    ),
    "tensor_targets_outside_the_output": Case(
        {
            "spec.nn": spec('torch_tensors("t.pt")', "", "[2]"),
            "t.pt": torch_file({"features": torch.zeros(30, 2), "targets": torch.arange(30) % 5}),
        },
        [(RUN, 1, "E517")],
    ),
    "bce_on_labels_outside_0_1": Case(
        {
            "spec.nn": spec('torch_tensors("t.pt")', "", "[2]", "    output x -> Linear(1)\n", "BCEWithLogitsLoss()"),
            "t.pt": torch_file({"features": torch.zeros(30, 2), "targets": (torch.arange(30) % 3).float()[:, None]}),
        },
        [(RUN, 1, "E516")],
    ),
    "mse_on_tensor_targets_of_another_width": Case(
        {
            "spec.nn": spec('torch_tensors("t.pt")', "", "[2]", None, "MSELoss()"),
            "t.pt": torch_file({"features": torch.zeros(30, 2), "targets": torch.zeros(30, 1)}),
        },
        [(RUN, 1, "E517")],
    ),
    "a_nan_label": Case({"spec.nn": spec(), "data.csv": DATA.replace(",y\n", ",nan\n", 1)}, [(RUN, 1, "E511")]),
    "an_empty_class_folder_counts_as_no_class": Case(
        {
            "spec.nn": spec(
                'images("img", size=[4, 4], grayscale=true)',
                "",
                "[1, 4, 4]",
                "    output x -> Flatten() -> Linear(2)\n",
            )
        },
        [(RUN, 0, None)],
    ),
    # issue: predict and evaluate answer for the checkpoint they are given
    "predict_takes_columns_by_name": Case(
        {"spec.nn": spec(), "data.csv": DATA, "swapped.csv": SWAPPED},
        [
            (RUN, 0, None),
            (
                ["predict", "spec.nn", "--checkpoint", "run/best.pt", "--input", "data.csv", "--output", "p1.csv"],
                0,
                None,
            ),
            (
                ["predict", "spec.nn", "--checkpoint", "run/best.pt", "--input", "swapped.csv", "--output", "p2.csv"],
                0,
                None,
            ),
            same_file("p1.csv", "p2.csv"),
        ],
    ),
    "predict_without_a_trained_column": Case(
        {"spec.nn": spec(), "data.csv": DATA, "new.csv": "a,c\n1,2\n", "other.csv": "w,x,y,z\n1,2,3,4\n"},
        [
            (RUN, 0, None),
            (
                ["predict", "spec.nn", "--checkpoint", "run/best.pt", "--input", "new.csv", "--output", "p.csv"],
                1,
                "E502",
            ),
            (
                ["predict", "spec.nn", "--checkpoint", "run/best.pt", "--input", "other.csv", "--output", "p.csv"],
                1,
                "E502",
            ),
        ],
    ),
    "predict_writes_a_column_per_score_of_the_checkpoint": Case(
        {"spec.nn": spec(body="    output x -> Linear(8) -> ReLU() -> Linear(4)\n"), "data.csv": DATA},
        [
            (RUN, 0, None),
            (
                ["predict", "spec.nn", "--checkpoint", "run/best.pt", "--input", "data.csv", "--output", "p.csv"],
                0,
                None,
            ),
            lambda folder: _header_is(folder / "p.csv", ["prediction", "p_x", "p_y", "p_z", "p_3"]),
        ],
    ),
    "evaluate_uses_the_split_the_checkpoint_was_trained_on": Case(
        {
            "spec.nn": spec(data='    target = "label"\n    split = { train: 0.6, val: 0.2, test: 0.2 }\n'),
            "data.csv": DATA,
        },
        [(["run", "spec.nn", "--out", "run", "--seed", "2"], 0, None), "evaluate"],
    ),
    "evaluate_on_changed_data": Case(
        {"spec.nn": spec(), "data.csv": DATA},
        [
            (RUN, 0, None),
            lambda folder: (folder / "data.csv").write_text(DATA + "1,1,x\n"),
            (["evaluate", "spec.nn", "--checkpoint", "run/best.pt"], 1, "E606"),
        ],
    ),
    # issue: the run half keeps lint's promise
    "a_second_run_into_one_folder": Case({"spec.nn": spec(), "data.csv": DATA}, [(RUN, 0, None), (RUN, 1, "E604")]),
    "resume_with_another_seed": Case(
        {"spec.nn": spec(), "data.csv": DATA}, [(RUN, 0, None), ([*RUN, "--resume", "--seed", "5"], 1, "E606")]
    ),
    "resume_without_a_run": Case({"spec.nn": spec(), "data.csv": DATA}, [([*RUN, "--resume"], 1, "E606")]),
    "a_device_this_torch_lacks": Case(
        {"spec.nn": spec(), "data.csv": DATA},
        [([*RUN, "--device", "cuda"], 1, "E607")] if not torch.cuda.is_available() else [],
    ),
    "a_foreign_checkpoint": Case(
        {"spec.nn": spec(), "data.csv": DATA, "tensor.pt": torch_file(torch.zeros(3)), "list.pt": torch_file([1, 2])},
        [
            (["evaluate", "spec.nn", "--checkpoint", "tensor.pt"], 1, "E608"),
            (["predict", "spec.nn", "--checkpoint", "list.pt", "--input", "data.csv", "--output", "p.csv"], 1, "E608"),
        ],
    ),
    "compile_into_a_missing_folder": Case(
        {"spec.nn": spec(), "data.csv": DATA}, [(["compile", "spec.nn", "-o", "no/such/train.py"], 1, "E603")]
    ),
    "outputs_over_the_users_own_files": Case(
        {"spec.nn": spec(), "data.csv": DATA, "mine.py": "print('mine')\n", "keep.py": "print('mine')\n"},
        [
            (["compile", "spec.nn", "-o", "mine.py"], 1, "E612"),
            (["graph", "spec.nn", "-o", "mine.py"], 1, "E612"),
            (RUN, 0, None),
            (
                ["predict", "spec.nn", "--checkpoint", "run/best.pt", "--input", "data.csv", "--output", "mine.py"],
                1,
                "E612",
            ),
            same_file("mine.py", "keep.py"),
            (["compile", "spec.nn", "-o", "mine.py", "--force"], 0, None),
        ],
    ),
    "overrides_the_spec_would_refuse": Case(
        {"spec.nn": spec(), "data.csv": DATA},
        [
            ([*RUN, flag, value], 2, None)
            for flag, value in [("--seed", "-1"), ("--seed", str(2**32)), ("--seed", "2.5"), ("--lr", "-1")]
            + [("--lr", "1e308"), ("--lr", "nan"), ("--epochs", "-3"), ("--epochs", "0")]
        ]
        + [lambda folder: not (folder / "run").exists() or pytest.fail("a refused run made its folder")],
    ),
    "predict_and_evaluate_on_a_device_this_torch_lacks": Case(
        {"spec.nn": spec(), "data.csv": DATA},
        [
            (RUN, 0, None),
            (["evaluate", "spec.nn", "--checkpoint", "run/best.pt", "--device", "cuda"], 1, "E607"),
            (PREDICT + ["--device", "mps"], 1, "E607"),
        ]
        if not torch.cuda.is_available() and not torch.backends.mps.is_available()
        else [],
    ),
    "from_a_foreign_checkpoint": Case(
        {"spec.nn": spec(train='    from = "list.pt"\n'), "data.csv": DATA, "list.pt": torch_file([1, 2])},
        [(RUN, 1, "E608")],
    ),
    "resume_another_architecture": Case(
        {
            "spec.nn": spec(),
            "wide.nn": spec(body="    output x -> Linear(16) -> ReLU() -> Linear(3)\n"),
            "data.csv": DATA,
        },
        [(RUN, 0, None), (["run", "wide.nn", "--out", "run", "--resume"], 1, "E606")],
    ),
    "run_out_under_a_file": Case(
        {"spec.nn": spec(), "data.csv": DATA, "f": "x"}, [(["run", "spec.nn", "--out", "f/run"], 1, "E603")]
    ),
    "a_dangling_symlink_as_output": Case(
        {"spec.nn": spec(), "data.csv": DATA},
        [
            (RUN, 0, None),
            lambda folder: (folder / "p.csv").symlink_to(folder / "nowhere"),
            (PREDICT, 1, "E612"),
            lambda folder: (folder / "p.csv").is_symlink() or pytest.fail("the link was replaced"),
            (["compile", "spec.nn", "-o", "p.csv"], 1, "E612"),
        ],
    ),
    "resume_a_one_cycle_schedule_for_more_epochs": Case(
        {"spec.nn": spec(train="    scheduler = OneCycleLR(max_lr=0.5)\n"), "data.csv": DATA},
        [
            ([*RUN, "--epochs", "1"], 0, None),
            ([*RUN, "--resume", "--epochs", "3"], 1, "E606"),
            ([*RUN, "--resume"], 0, None),  # the run's own --epochs 1, remembered
        ],
    ),
    "data_beyond_the_machines_memory": Case(
        {"spec.nn": spec(source="synthetic(samples=1000000000000, features=2, classes=3)", data="")},
        [
            (RUN, 1, "E613"),
            lambda folder: not (folder / "run").exists() or pytest.fail("a refused run made its folder"),
        ],
    ),
    "a_run_folder_another_run_holds": Case(
        {"spec.nn": spec(), "data.csv": DATA},
        [(RUN, 0, None), lambda folder: HELD.append(_hold(folder / "run")), ([*RUN, "--resume"], 1, "E605")],
    ),
}

HELD: list = []  # locks a step holds


@pytest.fixture(autouse=True)
def _release_held_locks():
    yield
    while HELD:
        HELD.pop().close()


def _hold(out):
    """The run folder's lock, taken as a second run would take it."""
    import fcntl

    held = open(out / ".nnspec-lock", "a+")
    fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    held.write("4242")
    held.flush()
    return held


def _setup(folder, case: Case) -> None:
    for name, content in case.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    if any("images(" in str(c) for c in case.files.values()):
        _image_folders(folder / "img")


def _image_folders(root) -> None:
    from PIL import Image

    for k, name in enumerate(("dark", "light")):
        (root / name).mkdir(parents=True)
        for i in range(12):
            Image.new("L", (4, 4), color=40 + 150 * k + i).save(root / name / f"{i}.png")
    (root / "empty").mkdir()  # a class folder without images: not a class, for lint and program alike


CODE = re.compile(r"^error\[(E\d{3})\]", re.M)


@pytest.mark.parametrize("name", CASES)
def test_run_error_case(name, tmp_path, monkeypatch, capsys):
    case = CASES[name]
    _setup(tmp_path, case)
    monkeypatch.chdir(tmp_path)
    printed = ""
    for step in case.steps:
        if step == "evaluate":  # evaluate's loss against the run's test.json
            assert cli.main(["evaluate", "spec.nn", "--checkpoint", "run/best.pt"]) == 0
            printed = capsys.readouterr().out
            same_test_results("run", re.search(r"loss (\S+)", printed).group(1))(tmp_path)
            continue
        if callable(step):
            step(tmp_path)
            continue
        argv, exit, code = step
        with time_limit(120):
            try:
                got = cli.main(argv)
            except SystemExit as e:  # argparse's usage errors
                got = e.code
        captured = capsys.readouterr()
        printed = captured.out
        assert "Traceback" not in captured.err, captured.err
        assert got == exit, f"{argv}: exit {got}\n{captured.err}"
        assert CODE.findall(captured.err)[:1] == ([code] if code else []), captured.err


COVERED = {step[2] for case in CASES.values() for step in case.steps if isinstance(step, tuple) and step[2]}


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs where this machine lets the tests mount one (root on Linux)."""
    import shutil
    import subprocess

    mount = tmp_path / "disk"
    mount.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root and mount(8)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"this machine refuses a tmpfs mount: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], capture_output=True)


def test_a_full_disk_keeps_the_last_checkpoint(small_disk, tmp_path, monkeypatch, capsys):
    """A run that fills the disk stops with E609; every checkpoint left loads, no .tmp stays."""
    wide = spec(body="    output x -> Linear(450) -> ReLU() -> Linear(450) -> ReLU() -> Linear(3)\n")
    _setup(tmp_path, Case({"spec.nn": wide, "data.csv": DATA}))
    monkeypatch.chdir(tmp_path)
    with time_limit(120):
        got = cli.main(["run", "spec.nn", "--out", str(small_disk / "run"), "--epochs", "50"])
    err = capsys.readouterr().err
    assert got == 1 and CODE.findall(err)[:1] == ["E609"], err
    left = sorted(p.name for p in (small_disk / "run").iterdir())
    assert not [name for name in left if name.endswith(".tmp")], left
    for name in ("last.pt", "best.pt"):
        if name in left:
            torch.load(small_disk / "run" / name, weights_only=True)


def test_running_out_of_memory_is_an_error_not_a_crash(tmp_path, monkeypatch, capsys):
    """Memory a check could not foresee (a device's, a batch's) ends in E613 too."""

    def exhausted(args):
        raise MemoryError

    monkeypatch.setitem(cli.COMMANDS, "run", exhausted)
    assert cli.main(["run", "spec.nn"]) == 1
    assert CODE.findall(capsys.readouterr().err) == ["E613"]


def test_synthetic_data_beyond_memory_is_refused_before_allocating():
    from nnspec.program.errors import DataError
    from nnspec.program.sources.synthetic_source import load_synthetic

    with pytest.raises(DataError) as e:
        load_synthetic(samples=10**12, features=8)  # 40 TB: allocating it would fail or swap
    assert e.value.code == "E613"
