"""What a user sees while a run trains: a live progress bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time


def make_report(live: bool | None = None):
    live = sys.stdout.isatty() if live is None else live
    return LiveReport() if live else LineReport()


def format_row(row: dict) -> str:
    parts = []
    for key, value in row.items():
        parts.append(f"{key} {value:.4g}" if isinstance(value, float) else f"{key} {value}")
    return "  ".join(parts)


class LineReport:
    """One line per epoch: readable in CI logs and files."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def start(self, epoch, epochs):
        self.epochs = epochs

    def batch(self, done, total, samples, loss):
        pass

    def end(self, row):
        self.message(format_row(row))

    def result(self, row):
        """The test split's loss and metrics, once at the end."""
        self.message(format_row(row))

    def message(self, text):
        self.stream.write(text + "\n")
        self.stream.flush()


class LiveReport(LineReport):
    """A rich progress bar per epoch: batches, samples/s and the running loss."""

    REFRESH = 0.1  # seconds between reads of the loss (each read waits for the device)

    def __init__(self):
        super().__init__()
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.console = Console()
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeRemainingColumn(),
        )
        self.progress = Progress(*columns, console=self.console, transient=True)

    def start(self, epoch, epochs):
        self.task = None
        self.label = f"epoch {epoch + 1}/{epochs}"
        self.samples, self.began, self.shown = 0, time.perf_counter(), 0.0
        self.progress.start()

    def batch(self, done, total, samples, loss):
        if self.task is None:
            self.task = self.progress.add_task(self.label, total=total, info="")
        self.samples += samples
        now = time.perf_counter()
        if now - self.shown >= self.REFRESH or done == total:
            rate = self.samples / max(now - self.began, 1e-9)
            self.progress.update(self.task, completed=done, info=f"loss {loss.item():.4g}  {rate:,.0f} samples/s")
            self.shown = now

    def end(self, row):
        self.progress.stop()
        self.console.print(format_row(row), highlight=False)

    def message(self, text):
        self.console.print(text, highlight=False, markup=False)
