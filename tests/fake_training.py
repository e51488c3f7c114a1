"""A training loop without a model, driving the report `nnspec run` picks (run on a terminal by
tests/test_live_report.py): epochs of batches, messages, a warning and a print mid-epoch.

    python -m tests.fake_training EPOCHS BATCHES REFRESH
"""

from __future__ import annotations

import sys
import warnings

from nnspec.runtime.report import format_row, make_report

WARNED_AT = (2, 3)  # (epoch, batch): a warning and a print in the middle of a bar
NOTE_AFTER = 5  # epoch after which a message is printed between epochs


class FakeLoss:
    """Stands for a loss tensor: only `.item()` is read."""

    def __init__(self, value: float):
        self.value = value

    def item(self) -> float:
        return self.value


def rows(epochs: int) -> list[dict]:
    return [
        {"epoch": e + 1, "train_loss": 0.5 / (e + 1), "val_loss": 0.6 / (e + 1), "val_accuracy": 0.9, "lr": 0.01}
        for e in range(epochs)
    ]


def expected(epochs: int) -> list[str]:
    """Every line the run leaves on the terminal, in order."""
    lines = []
    for row in rows(epochs):
        if row["epoch"] - 1 == WARNED_AT[0]:
            lines += ["warning: a warning while the bar is up", "a line printed while the bar is up"]
        lines.append(format_row(row))
        if row["epoch"] == NOTE_AFTER:
            lines.append("note: a message between epochs, long enough to be wider than a narrow terminal")
    return [*lines, "early stop: val_loss has not improved for 3 epochs", format_row({"test_loss": 0.1})]


def main(epochs: int, batches: int, refresh: float) -> None:
    warnings.formatwarning = lambda message, *args, **kwargs: f"warning: {message}\n"
    report = make_report()
    report.REFRESH = refresh
    for epoch, row in enumerate(rows(epochs)):
        report.start(epoch, epochs)
        for b in range(batches):
            report.batch(b + 1, batches, 32, FakeLoss(1.0 / (b + 1)))
            if (epoch, b) == WARNED_AT:
                warnings.warn("a warning while the bar is up", stacklevel=1)
                print("a line printed while the bar is up")
        report.end(row)
        if row["epoch"] == NOTE_AFTER:
            report.message("note: a message between epochs, long enough to be wider than a narrow terminal")
    report.message("early stop: val_loss has not improved for 3 epochs")
    report.result({"test_loss": 0.1})
    report.close()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]))
