"""nnspec/program/fit.py directly: early stopping, checkpoints and metrics.csv, bit-exact resume."""

from __future__ import annotations

import argparse
import csv

import pytest

torch = pytest.importorskip("torch")

from nnspec.program import fit as fit_module  # noqa: E402
from nnspec.program.fit import fit  # noqa: E402
from nnspec.program.minibatches import Batches  # noqa: E402
from nnspec.program.samples import Data  # noqa: E402


class Recorded:
    """A report that keeps what fit tells it."""

    def __init__(self):
        self.rows, self.messages = [], []

    def start(self, epoch, epochs):
        pass

    def batch(self, done, total, samples, loss):
        pass

    def end(self, row):
        self.rows.append(row)

    def result(self, row):
        pass

    def message(self, text):
        self.messages.append(text)


def problem(seed=0):
    """A small model (with dropout: resume must restore the RNG) and its splits."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(40, 4, generator=g)
    y = (x[:, 0] > 0).long()
    splits = {"train": (x[:32], y[:32]), "val": (x[32:], y[32:])}
    data = Data(splits, ["0", "1"], None, None, 0, {"train": 0.8, "val": 0.2}, 40)
    batches = {name: Batches(bx, by, 32, name == "train", False, 0) for name, (bx, by) in splits.items()}
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.5), torch.nn.Linear(8, 2))
    return model, batches, data


def run(out, epochs, lr, resume=False, overfit_batch=False, model=None):
    out.mkdir(exist_ok=True)  # RunFolder makes it in a program
    fresh, batches, data = problem()
    model = model or fresh
    args = argparse.Namespace(epochs=epochs, lr=lr, seed=0, out=str(out), resume=resume, overfit_batch=overfit_batch)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    report = Recorded()
    rows = fit(model, batches, torch.nn.CrossEntropyLoss(), optimizer, data, args, report)
    return rows, report, model


@pytest.fixture
def patience(monkeypatch):
    def set_patience(epochs):
        monkeypatch.setattr(fit_module, "PATIENCE", epochs)

    return set_patience


def test_early_stopping_after_patience_epochs_without_improvement(tmp_path, patience):
    patience(2)
    rows, report, _ = run(tmp_path, epochs=10, lr=0.0)  # lr 0: val_loss never improves on epoch 1
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert len(report.messages) == 1 and "early stop" in report.messages[0]
    with open(tmp_path / "metrics.csv", newline="") as f:
        assert [int(r["epoch"]) for r in csv.DictReader(f)] == [1, 2, 3]
    assert {"best.pt", "last.pt"} <= {p.name for p in tmp_path.iterdir()}


def test_without_patience_or_with_overfit_batch_every_epoch_runs(tmp_path, patience):
    assert len(run(tmp_path / "a", epochs=5, lr=0.0)[0]) == 5
    patience(1)
    assert len(run(tmp_path / "b", epochs=5, lr=0.0, overfit_batch=True)[0]) == 5


def test_best_pt_holds_the_epoch_with_the_lowest_monitored_value(tmp_path):
    rows, _, _ = run(tmp_path, epochs=6, lr=0.5)
    best = min(rows, key=lambda r: r["val_loss"])
    saved = torch.load(tmp_path / "best.pt", weights_only=True)
    assert saved["state"]["rows"][-1]["epoch"] == best["epoch"]


def test_resume_continues_bit_exactly(tmp_path):
    whole, _, straight = run(tmp_path / "whole", epochs=4, lr=0.1)
    run(tmp_path / "parts", epochs=2, lr=0.1)
    other, _, _ = problem(seed=99)  # another initialisation: last.pt's weights replace it
    rows, report, resumed = run(tmp_path / "parts", epochs=4, lr=0.1, resume=True, model=other)
    assert "resuming" in report.messages[0]
    assert rows == whole
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)
