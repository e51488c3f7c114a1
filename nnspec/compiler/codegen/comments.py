"""Trailing comments that would push a line past black's width go on their own line above it.

Left where they are, black splits the code and leaves the comment on the closing bracket:
`nn.Conv2d(\n    ...\n),  # spec.nn:10`, which reads as if it were about the bracket.
"""

from __future__ import annotations

import io
import tokenize

WIDTH = 88  # black's default line length, which the generated program is formatted with


def comments_above(source: str, width: int = WIDTH) -> str:
    lines = source.splitlines(keepends=True)
    moved = {}  # 0-based line index -> (column of the comment, comment text)
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.COMMENT:
            continue
        row, col = token.start
        line = lines[row - 1]
        if line[:col].strip() and len(line.rstrip("\n")) > width:
            moved[row - 1] = (col, token.string)
    for index in sorted(moved, reverse=True):
        col, comment = moved[index]
        line = lines[index]
        indent = line[: len(line) - len(line.lstrip())]
        lines[index : index + 1] = [f"{indent}{comment}\n", line[:col].rstrip() + "\n"]
    return "".join(lines)
