"""Search, predict, evaluate and every data source, end to end on small data (nnspec run's CLI)."""

from __future__ import annotations

import csv
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from nnspec.cli import main

CSV = "a,b,flower\n" + "".join(f"{i % 7},{(i * 3) % 5},{['rose', 'tulip', 'iris'][i % 3]}\n" for i in range(60))
FLOWERS = """
data d {
    source = csv("flowers.csv")
    target = "flower"
    split = { train: 0.6, val: 0.2, test: 0.2 }
    batch_size = 8
    normalize = "standard"
}
model Net(width=8) {
    input x: [2]
    h = x -> Linear(width) -> ReLU()
    output h -> Linear(3)
}
train {
    loss = CrossEntropyLoss()
    optimizer = SGD(lr=0.1, momentum=0.9)
    epochs = 2
    metrics = [Accuracy()]
    seed = 3
}
"""


@pytest.fixture
def flowers(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "flowers.csv").write_text(CSV)
    (tmp_path / "flowers.nn").write_text(FLOWERS)
    return tmp_path


def _rows(path: pathlib.Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_grid_search_runs_the_trials_skips_invalid_ones_and_keeps_the_best(flowers, capsys):
    spec = flowers / "flowers.nn"
    spec.write_text(
        FLOWERS
        + '\nsearch {\n method = "grid"\n trials = 4\n goal = maximize("val_accuracy")\n lr = [0.05, 0.1]\n width = [4, -1]\n}\n'
    )
    assert main(["search", str(spec), "--out", "s"]) == 0
    rows = _rows(flowers / "s" / "search.csv")
    assert [r["trial"] for r in rows] == ["1", "2", "3", "4"]
    skipped = [r for r in rows if r["status"].startswith("skipped")]
    assert [r["width"] for r in skipped] == ["-1", "-1"] and all("E304" in r["status"] for r in skipped)
    done = [r for r in rows if r["status"] == "ok"]
    assert len(done) == 2 and all(0 <= float(r["best_val_accuracy"]) <= 1 for r in done)
    best = max(done, key=lambda r: float(r["best_val_accuracy"]))
    kept = torch.load(flowers / "s" / "best.pt", weights_only=True)
    trial = torch.load(flowers / "s" / f"trial_{best['trial']}" / "best.pt", weights_only=True)
    assert all(torch.equal(kept["model"][k], trial["model"][k]) for k in kept["model"])
    assert "top trials" in capsys.readouterr().out
    assert main(["search", str(spec), "--out", "s"]) == 1  # never over an earlier search


def test_a_trial_folder_holds_the_trials_spec_and_runs_from_there(flowers, capsys):
    spec = flowers / "flowers.nn"
    spec.write_text(
        FLOWERS + '\nsearch {\n method = "grid"\n trials = 2\n lr = [0.05]\n width = [5]\n batch_size = [4]\n}\n'
    )
    assert main(["search", str(spec), "--out", "s"]) == 0
    trial = flowers / "s" / "trial_1"
    text = (trial / "spec.nn").read_text()
    assert "SGD(lr=0.05, momentum=0.9)" in text and "Net(width=5)" in text and "batch_size = 4" in text
    assert 'csv("../../flowers.csv")' in text  # its data, from where it is
    capsys.readouterr()
    assert main(["evaluate", str(trial / "spec.nn"), "--checkpoint", str(trial / "best.pt")]) == 0
    assert capsys.readouterr().out.startswith("test: loss ")
    (flowers / "new.csv").write_text("a,b\n1,2\n")
    argv = ["predict", str(trial / "spec.nn"), "--checkpoint", str(trial / "best.pt"), "--input", "new.csv"]
    assert main([*argv, "--output", "p.csv"]) == 0


def test_a_trial_that_fails_at_run_time_is_recorded_and_the_search_goes_on(flowers, capsys):
    spec = flowers / "flowers.nn"
    spec.write_text(FLOWERS + '\nsearch {\n method = "grid"\n trials = 2\n lr = [1e30, 0.1]\n}\n')
    assert main(["search", str(spec), "--out", "s"]) == 0
    rows = _rows(flowers / "s" / "search.csv")
    assert rows[0]["status"].startswith("failed: error[E610]") and rows[1]["status"] == "ok"
    assert (flowers / "s" / "best.pt").is_file()


def test_random_search_draws_from_distributions(flowers):
    spec = flowers / "flowers.nn"
    spec.write_text(
        FLOWERS
        + "\nsearch {\n trials = 3\n lr = loguniform(0.01, 0.2)\n momentum = uniform(0.8, 0.95)\n batch_size = choice([4, 8])\n}\n"
    )
    assert main(["search", str(spec), "--out", "r"]) == 0
    rows = _rows(flowers / "r" / "search.csv")
    assert len(rows) == 3
    assert all(
        0.01 <= float(r["lr"]) <= 0.2 and 0.8 <= float(r["momentum"]) <= 0.95 and r["batch_size"] in ("4", "8")
        for r in rows
    )


def test_predict_maps_labels_back_and_evaluate_reports_the_test_split(flowers, capsys):
    assert main(["run", "flowers.nn", "--out", "run"]) == 0
    (flowers / "new.csv").write_text("a,b\n1,2\n3,4\n")
    assert (
        main(["predict", "flowers.nn", "--checkpoint", "run/best.pt", "--input", "new.csv", "--output", "p.csv"]) == 0
    )
    rows = _rows(flowers / "p.csv")
    assert list(rows[0]) == ["prediction", "p_iris", "p_rose", "p_tulip"]
    assert all(r["prediction"] in ("iris", "rose", "tulip") for r in rows)
    assert all(abs(sum(float(r[f"p_{c}"]) for c in ("iris", "rose", "tulip")) - 1) < 1e-4 for r in rows)
    before = (flowers / "p.csv").read_bytes()
    assert (
        main(["predict", "flowers.nn", "--checkpoint", "run/best.pt", "--input", "new.csv", "--output", "p.csv"]) == 1
    )
    assert (flowers / "p.csv").read_bytes() == before
    capsys.readouterr()
    assert main(["evaluate", "flowers.nn", "--checkpoint", "run/best.pt"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("test: loss ") and "accuracy" in out


@pytest.mark.parametrize("content", [b"", b"not a checkpoint", b"PK\x03\x04truncated"])
def test_a_broken_checkpoint_is_an_error_not_a_traceback(flowers, capsys, content):
    (flowers / "bad.pt").write_bytes(content)
    assert main(["evaluate", "flowers.nn", "--checkpoint", "bad.pt"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error[E608]:") and "Traceback" not in err


def test_a_checkpoint_of_another_architecture_names_the_tensors(flowers, capsys):
    assert main(["run", "flowers.nn", "--out", "run"]) == 0
    (flowers / "wide.nn").write_text(FLOWERS.replace("width=8", "width=16"))
    capsys.readouterr()
    assert main(["evaluate", "wide.nn", "--checkpoint", "run/best.pt"]) == 1
    assert "h.0.weight" in capsys.readouterr().err


def _train(tmp_path, data: str, input_shape: str, extra: str = "") -> int:
    spec = tmp_path / "s.nn"
    spec.write_text(
        f"data d {{\n{data}\n batch_size = 4\n}}\nmodel M {{\n input x: {input_shape}\n output x -> Flatten() -> Linear(2)\n}}\n"
        f"train {{\n loss = CrossEntropyLoss()\n optimizer = SGD(lr=0.1)\n epochs = 1\n{extra}}}\n"
    )
    return main(["run", str(spec), "--out", str(tmp_path / "out")])


def test_image_folder_source(tmp_path):
    for label, shade in (("cat", 40), ("dog", 200)):
        (tmp_path / "img" / label).mkdir(parents=True)
        for i in range(6):
            Image.new("RGB", (10, 7), (shade, i * 20, 0)).save(tmp_path / "img" / label / f"{i}.png")
    assert _train(tmp_path, ' source = images("img", size=[6, 5])', "[3, 6, 5]") == 0
    assert len(_rows(tmp_path / "out" / "metrics.csv")) == 1
    assert torch.load(tmp_path / "out" / "best.pt", weights_only=True)["classes"] == ["cat", "dog"]


def test_numpy_and_torch_tensor_sources(tmp_path):
    x, y = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32), np.arange(20) % 2
    np.savez(tmp_path / "a.npz", x=x, y=y)
    assert _train(tmp_path, ' source = numpy_arrays("a.npz", features="x", targets="y")', "[3]") == 0
    torch.save({"features": torch.from_numpy(x), "targets": torch.from_numpy(y)}, tmp_path / "t.pt")
    (tmp_path / "out" / "metrics.csv").unlink()
    (tmp_path / "out" / "last.pt").unlink()
    assert _train(tmp_path, ' source = torch_tensors("t.pt")', "[3]") == 0


def test_one_hot_targets_train(tmp_path):
    assert _train(tmp_path, " source = synthetic(samples=40, features=3, classes=2)\n one_hot = true", "[3]") == 0


STREAMED = """
data d {{
    source = {source}
    split = {{ train: 0.6, val: 0.2, test: 0.2 }}
    batch_size = 4
    normalize = "{normalize}"
{loading}
}}
model M {{
    input x: [3, 6, 5]
    output x -> Conv2d(4, 3) -> ReLU() -> Dropout(0.3) -> Flatten() -> Linear(2)
}}
train {{
    loss = CrossEntropyLoss()
    optimizer = SGD(lr=0.05, momentum=0.9)
    metrics = [Accuracy()]
    epochs = 3
    seed = 5
}}
"""


def _noisy_images(folder: pathlib.Path, per_class: int = 12) -> None:
    rng = np.random.default_rng(0)
    for label, shade in (("cat", 90), ("dog", 160)):
        (folder / label).mkdir(parents=True)
        for i in range(per_class):
            pixels = np.clip(rng.normal(shade, 60, size=(7, 10, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / label / f"{i}.png")


IMAGES = 'images("img", size=[6, 5])'
ARRAYS = 'numpy_arrays("x.npy", targets_path="y.npy")'


def _noisy_arrays(folder: pathlib.Path, samples: int = 24) -> None:
    rng = np.random.default_rng(0)
    y = np.arange(samples) % 2
    np.save(folder / "x.npy", (rng.normal(size=(samples, 3, 6, 5)) + y[:, None, None, None]).astype(np.float32))
    np.save(folder / "y.npy", y)


@pytest.mark.parametrize(
    "source,normalize",
    [(IMAGES, "standard"), (IMAGES, "minmax"), (ARRAYS, "standard")],
    ids=["images-standard", "images-minmax", "npy-standard"],
)
def test_streamed_data_trains_and_predicts_as_in_memory_data(tmp_path, source, normalize):
    """in_memory = false: the same batches in the same order, read by two workers; same results."""
    _noisy_images(tmp_path / "img")
    _noisy_arrays(tmp_path)
    inputs = tmp_path / ("img" if source == IMAGES else "x.npy")
    rows, predictions = {}, {}
    for name, loading in (("memory", ""), ("streamed", "    in_memory = false\n    num_workers = 2")):
        spec = tmp_path / f"{name}.nn"
        spec.write_text(STREAMED.format(source=source, normalize=normalize, loading=loading))
        assert main(["run", str(spec), "--out", str(tmp_path / name)]) == 0
        rows[name] = _rows(tmp_path / name / "metrics.csv")
        out = tmp_path / f"{name}.csv"
        assert (
            main(
                [
                    "predict",
                    str(spec),
                    "--checkpoint",
                    str(tmp_path / name / "best.pt"),
                    "--input",
                    str(inputs),
                    "--output",
                    str(out),
                ]
            )
            == 0
        )
        predictions[name] = _rows(out)
    assert len(rows["streamed"]) == 3 and float(rows["streamed"][0]["train_loss"]) > 0.01  # not trivially solved
    for memory, streamed in [
        *zip(rows["memory"], rows["streamed"], strict=True),
        *zip(predictions["memory"], predictions["streamed"], strict=True),
    ]:
        assert memory.keys() == streamed.keys()
        for key, value in memory.items():
            if key != "prediction":
                assert float(streamed[key]) == pytest.approx(float(value), rel=1e-4, abs=1e-6), key
            else:
                assert streamed[key] == value


def test_streamed_workers_without_fork_are_an_error_not_a_traceback(tmp_path, monkeypatch, capsys):
    """macOS and Windows start workers by spawn, which cannot import a program run in memory."""
    _noisy_images(tmp_path / "img", per_class=2)
    spec = tmp_path / "s.nn"
    spec.write_text(
        STREAMED.format(source=IMAGES, normalize="none", loading="    in_memory = false\n    num_workers = 2")
    )
    monkeypatch.setattr("multiprocessing.get_start_method", lambda *a, **k: "spawn")
    assert main(["run", str(spec), "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error[E611]") and "nnspec compile" in err
    assert not (tmp_path / "run").exists()


def test_class_order_does_not_depend_on_the_hash_seed(flowers, capsys):
    """Labels that sort alike as numbers and as text ("1" and "1.0") keep one order everywhere."""
    labels = ["b", "a", "10", "9", "1.0", "1"]
    rows = [f"{i % 5},{(3 * i) % 7},{labels[i % len(labels)]}" for i in range(72)]
    (flowers / "mixed.csv").write_text("a,b,flower\n" + "\n".join(rows) + "\n")
    (flowers / "mixed.nn").write_text(FLOWERS.replace("flowers.csv", "mixed.csv").replace("Linear(3)", "Linear(6)"))
    assert main(["run", "mixed.nn", "--out", "run"]) == 0
    checkpoint = torch.load(flowers / "run" / "best.pt", weights_only=True)
    assert checkpoint["classes"] == ["1", "1.0", "9", "10", "a", "b"]
    printed = set()
    for seed in ("0", "1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        argv = [sys.executable, "-m", "nnspec", "evaluate", "mixed.nn", "--checkpoint", "run/best.pt"]
        done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        printed.add(done.stdout)
    assert len(printed) == 1


def test_an_unreadable_image_in_a_worker_is_e501_not_a_hang(tmp_path, capsys):
    """A worker process's error reaches the main process as the same coded message, in
    `nnspec run` and in the compiled program."""
    from tests.timeouts import time_limit

    _noisy_images(tmp_path / "img")
    (tmp_path / "img" / "dog" / "7.png").write_bytes(b"\x89PNG\r\n\x1a\n torn")  # a header, then nothing
    spec = tmp_path / "s.nn"
    spec.write_text(
        STREAMED.format(source=IMAGES, normalize="none", loading="    in_memory = false\n    num_workers = 2")
    )
    with time_limit(120):
        code = main(["run", str(spec), "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error[E50") and "7.png" in err, err
    assert main(["compile", str(spec), "-o", str(tmp_path / "train.py")]) == 0
    done = subprocess.run(
        [sys.executable, str(tmp_path / "train.py"), "--out", str(tmp_path / "compiled")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and "7.png" in done.stderr and "Traceback" not in done.stderr, done.stderr
