"""One status line redrawn in place at the bottom of a terminal, with lines printed above it.

Printed lines are plain text ending in a newline, so they stay in the scrollback (a line wider
than the terminal wraps there); the status line is cut to the width, never wrapped, so one
carriage return always gets back to its start.
"""

from __future__ import annotations

import os
import sys
import textwrap

CLEAR = "\r\x1b[K"  # back to the line's start, erase to its end
BAR_WIDTH = (8, 40)  # narrower than 8 columns the bar is left out
COLORS = {"done": "\x1b[35m", "rest": "\x1b[2m"}  # magenta, dim
RESET = "\x1b[0m"


class StatusLine:
    """The line at the bottom; `show` redraws it, `above` prints a line over it and redraws it."""

    def __init__(self, stream):
        self.stream = stream
        self.segments: list | None = None  # what is shown: [(text, style)], None: nothing
        self.color = "NO_COLOR" not in os.environ
        self.fill = _fill(stream)

    def width(self) -> int:
        try:
            return os.get_terminal_size(self.stream.fileno()).columns or 80  # 0: a size never set
        except (OSError, ValueError):
            return 80

    def show(self, segments: list) -> None:
        self.segments = segments
        self._write(CLEAR + self._render(segments))

    def above(self, text: str, stream=None) -> None:
        """`text` (one or more lines) printed where the status line is, which is drawn again below."""
        self._write(CLEAR)
        lines = "".join(line + "\n" for line in wrap(text, self.width() - 1))
        if stream is None or stream is self.stream:
            self._write(lines)
        else:
            stream.write(lines)
            stream.flush()
        if self.segments is not None:
            self._write(self._render(self.segments))

    def clear(self) -> None:
        if self.segments is not None:
            self._write(CLEAR)
        self.segments = None

    def _render(self, segments: list) -> str:
        parts = []
        for text, style in segments:
            for char, ours in zip("━─…", self.fill):
                text = text.replace(char, ours)
            parts.append(COLORS[style] + text + RESET if style and self.color else text)
        return "".join(parts)

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


def progress_segments(label: str, done: int, total: int, extras: list[str], width: int) -> list:
    """`epoch 3/35 ━━━━━━──── 12/50  loss 0.31  5,210 samples/s  0:00:04` in at most width - 1 columns.

    `extras` come most important first. Where not all fit beside a bar (of 8 to 40 columns) the
    last ones go, down to the first; then the bar goes, then extras again, then the text is cut.
    The last column stays empty: filling it makes some terminals wrap, and the next carriage
    return would miss the line's start.
    """
    room, head, count = width - 1, label + " ", f" {done}/{total}"
    for n in range(len(extras), 0, -1):
        tail = count + "".join("  " + e for e in extras[:n])
        bar = min(room - len(head) - len(tail), BAR_WIDTH[1])
        if bar >= BAR_WIDTH[0]:
            filled = bar * done // max(total, 1)
            return [(head, None), ("━" * filled, "done"), ("─" * (bar - filled), "rest"), (tail, None)]
    for n in range(len(extras), -1, -1):
        text = label + count + "".join("  " + e for e in extras[:n])
        if len(text) <= room:
            return [(text, None)]
    return [(_cut(label + count, room), None)]


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` columns, broken between `key value` pairs (two spaces apart),
    else between words; a continued line is indented by two."""
    lines = []
    for line in text.split("\n"):
        lines += _wrap_pairs(line, max(width, 8)) if len(line) > width else [line]
    return lines


def _wrap_pairs(line: str, width: int) -> list[str]:
    indent = line[: len(line) - len(line.lstrip())]
    out, current = [], indent
    for chunk in line.lstrip().split("  "):
        joined = f"{current}  {chunk}" if current.strip() else current + chunk
        if len(joined) <= width or not current.strip():
            current = joined
        else:
            out.append(current)
            current = f"{indent}  {chunk}"
    out.append(current)
    return [part for piece in out for part in _wrap_words(piece, width)]


def _wrap_words(line: str, width: int) -> list[str]:
    if len(line) <= width:
        return [line]
    indent = line[: len(line) - len(line.lstrip())]
    words = line.lstrip()
    return textwrap.wrap(words, width, initial_indent=indent, subsequent_indent=indent + "  ", break_on_hyphens=False)


def eta(seconds: float) -> str:
    """h:mm:ss, as progress bars write remaining time."""
    s = max(int(seconds + 0.5), 0)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def _cut(text: str, room: int) -> str:
    return text if len(text) <= room else text[: max(room - 1, 0)] + "…"[: max(room, 0)]


def _fill(stream) -> str:
    """The bar's and the ellipsis' characters, in ASCII when the stream cannot encode others."""
    try:
        "━─…".encode(getattr(stream, "encoding", None) or "ascii")
        return "━─…"
    except (LookupError, UnicodeEncodeError):
        return "#-."


class Above:
    """Stands for sys.stdout or sys.stderr while the status line is up: whole lines written to it
    (a warning, a print) go above the status line instead of over it."""

    def __init__(self, stream, status: StatusLine):
        self.stream, self.status, self.pending = stream, status, ""

    def write(self, text: str) -> int:
        self.pending += text
        if "\n" in self.pending:
            lines, _, self.pending = self.pending.rpartition("\n")
            self.status.above(lines, self.stream)
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def release(self):
        """The stream it stood for, with any unfinished line written out."""
        if self.pending:
            self.status.above(self.pending, self.stream)
            self.pending = ""
        return self.stream

    def __getattr__(self, name):
        return getattr(self.stream, name)


def redirect(status: StatusLine) -> tuple[Above, Above]:
    """Route sys.stdout and sys.stderr above the status line until `restore`."""
    sys.stdout, sys.stderr = Above(sys.stdout, status), Above(sys.stderr, status)
    return sys.stdout, sys.stderr


def restore(proxies: tuple[Above, Above]) -> None:
    out, err = proxies
    if sys.stdout is out:
        sys.stdout = out.release()
    if sys.stderr is err:
        sys.stderr = err.release()
