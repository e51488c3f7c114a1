"""The progress line on a real terminal: run in a pseudo-terminal of a fixed size, read back through
a terminal emulator (pyte) with its scrollback. Every epoch line and message stays, in order and
once; one bar at a time; nothing wider than the terminal. Off a terminal: one line per epoch.
"""

from __future__ import annotations

import fcntl
import io
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time

import pyte
import pytest

from nnspec.runtime import terminal
from nnspec.runtime.report import LineReport, LiveReport, format_row, make_report
from tests import fake_training
from tests.timeouts import time_limit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BAR = re.compile(r"^epoch \d+/\d+")  # a progress line; a finished epoch's line is `epoch 3  train_loss ...`


def run_in_terminal(argv: list[str], cols: int, rows: int, seconds: float = 30) -> list[bytes]:
    """The output of `argv` run on a cols x rows pseudo-terminal, as the chunks read."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = {**os.environ, "PYTHONPATH": ROOT, "TERM": "xterm"}
    env.pop("NO_COLOR", None)
    child = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            if select.select([master], [], [], 0.5)[0]:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            elif child.poll() is not None:
                break
        assert child.wait(timeout=max(deadline - time.monotonic(), 1)) == 0, b"".join(chunks).decode()[-2000:]
    finally:
        if child.poll() is None:
            child.kill()
        os.close(master)
    return chunks


def screen_lines(screen: pyte.HistoryScreen) -> list[str]:
    """The scrollback, then the screen, without trailing blanks."""
    history = ["".join(line[x].data for x in range(screen.columns)).rstrip() for line in screen.history.top]
    return [*history, *(line.rstrip() for line in screen.display)]


def replay(chunks: list[bytes], cols: int, rows: int) -> tuple[list[str], int, int]:
    """(every line left, the most bar lines seen on the screen at once, how often a bar was seen)."""
    screen = pyte.HistoryScreen(cols, rows, history=100_000)
    stream = pyte.ByteStream(screen)
    most = seen = 0
    # the screen is looked at after each line break or carriage return, not after each read:
    # how many writes one read gathers depends on how busy the machine is
    for piece in re.split(rb"(?<=[\r\n])", b"".join(chunks)):
        stream.feed(piece)
        bars = sum(bool(BAR.match(line)) for line in screen.display)
        most, seen = max(most, bars), seen + (bars > 0)
    return screen_lines(screen), most, seen


def widest(chunks: list[bytes], cols: int, rows: int) -> int:
    """The longest line written, replayed on a screen much wider than the terminal it was written for."""
    screen = pyte.HistoryScreen(cols * 4, rows, history=100_000)
    pyte.ByteStream(screen).feed(b"".join(chunks))
    return max(len(line) for line in screen_lines(screen))


def _text(lines: list[str]) -> str:
    """The characters, whitespace left out: the same however the lines were wrapped."""
    return "".join("".join(lines).split())


@pytest.mark.parametrize("cols", [80, 40])
def test_every_epoch_line_stays_in_the_scrollback(cols):
    epochs, rows = 35, 24
    argv = [sys.executable, "-m", "tests.fake_training", str(epochs), "20", "0"]  # REFRESH 0: every batch redraws
    with time_limit(60):
        chunks = run_in_terminal(argv, cols, rows)
    lines, most_bars, bars_seen = replay(chunks, cols, rows)
    assert bars_seen > epochs  # it was live: a bar was up while each epoch ran
    assert most_bars == 1  # finished bars do not pile up
    assert _text(lines) == _text(fake_training.expected(epochs))  # all of them, once, in order, no bar left
    assert widest(chunks, cols, rows) < cols


def test_progress_line_fits_any_width():
    extras = ["loss 0.3123", "5,210 samples/s", "0:00:04"]
    for width in range(1, 160):
        for done in (0, 7, 50):
            segments = terminal.progress_segments("epoch 13/135", done, 50, extras, width)
            line = "".join(text for text, _ in segments)
            assert len(line) <= max(width - 1, 1), (width, line)
    full = "".join(t for t, _ in terminal.progress_segments("epoch 1/2", 5, 10, extras, 120))
    assert all(e in full for e in extras) and "━" in full


def test_wrap_keeps_every_character_within_the_width():
    text = format_row({"epoch": 7, **{f"val_metric_{i}": 0.1234 * i for i in range(9)}})
    for width in range(8, 120):
        lines = terminal.wrap(text, width)
        assert max(map(len, lines)) <= width
        assert _text(lines) == _text([text])
    assert terminal.wrap("epoch 3  train_loss 0.5", 80) == ["epoch 3  train_loss 0.5"]


def test_the_loss_is_read_at_most_every_refresh():
    class Counted(fake_training.FakeLoss):
        reads = 0

        def item(self):
            Counted.reads += 1
            return self.value

    report = LiveReport(io.StringIO())
    start = time.perf_counter()
    try:
        report.start(0, 1)
        for b in range(20_000):
            report.batch(b + 1, 20_000, 32, Counted(0.5))
        elapsed = time.perf_counter() - start
        report.end({"epoch": 1})
    finally:
        report.close()  # sys.stdout and sys.stderr back
    assert Counted.reads <= 2 + elapsed / LiveReport.REFRESH  # the first batch, the last, one per REFRESH


def test_off_a_terminal_one_line_per_epoch():
    out = io.StringIO()
    report = make_report(live=False)
    assert type(report) is LineReport
    report.stream = out
    for row in fake_training.rows(3):
        report.start(row["epoch"] - 1, 3)
        for b in range(5):
            report.batch(b + 1, 5, 32, fake_training.FakeLoss(0.5))
        report.end(row)
    report.close()
    assert out.getvalue().splitlines() == [format_row(row) for row in fake_training.rows(3)]
