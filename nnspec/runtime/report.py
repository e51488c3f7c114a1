"""What a user sees while a run trains: a live progress line on a terminal, plain lines otherwise."""

from __future__ import annotations

import os
import sys
import time

from nnspec.runtime.terminal import StatusLine, eta, progress_segments, redirect, restore


def make_report(live: bool | None = None):
    live = sys.stdout.isatty() and os.environ.get("TERM") != "dumb" if live is None else live
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

    def close(self):
        """The run is over (or failed): nothing more is shown."""


class LiveReport(LineReport):
    """A progress line for the epoch under way (batches, samples/s, the running loss), redrawn in
    place; each finished epoch's line and every message is printed above it and stays."""

    REFRESH = 0.1  # seconds between redraws, each reading the loss (a read waits for the device)

    def __init__(self, stream=None):
        super().__init__(stream)
        self.status = StatusLine(self.stream)
        self.proxies = None

    def start(self, epoch, epochs):
        if self.proxies is None:  # a warning or print while training goes above the line
            self.proxies = redirect(self.status)
        self.label = f"epoch {epoch + 1}/{epochs}"
        self.samples, self.began, self.shown = 0, time.perf_counter(), None

    def batch(self, done, total, samples, loss):
        self.samples += samples
        now = time.perf_counter()
        if self.shown is None or now - self.shown >= self.REFRESH or done == total:
            elapsed = max(now - self.began, 1e-9)
            extras = [
                f"loss {loss.item():.4g}",
                f"{self.samples / elapsed:,.0f} samples/s",
                eta(elapsed / done * (total - done)),
            ]
            self.status.show(progress_segments(self.label, done, total, extras, self.status.width()))
            self.shown = now

    def end(self, row):
        self.status.clear()
        self.message(format_row(row))

    def message(self, text):
        self.status.above(text)

    def close(self):
        self.status.clear()
        if self.proxies is not None:
            restore(self.proxies)
            self.proxies = None
