"""The catalogue of diagnostic codes: one Markdown file per code in nnspec/codes/, read on demand.

Lint never reads it (call sites keep their literal codes); `nnspec explain`, the README's codes
table and the tests do. An entry, `nnspec/codes/E401.md`:

    # E401: an inferred size written out differs from the input's

    severity: error

    What it means, why nnspec refuses it, how to fix it: a few sentences.

    ## Wrong

    ```nn
    a complete small spec that lint reports with this code
    ```

    ## Fixed

    ```nn
    the same spec, which lint does not report with it
    ```

An example fenced as `nn` is linted by the tests as if it were the file nnspec/codes/E401.nn,
so `csv("data/flowers.csv")` reads the shipped nnspec/codes/data/flowers.csv. One fenced as
`console` (command lines, for codes no spec text can produce) is not linted.
"""

from __future__ import annotations

import pathlib
import re

from nnspec.record import record

FOLDER = pathlib.Path(__file__).parent / "codes"
START, END = "<!-- codes:start -->", "<!-- codes:end -->"
LANGUAGES = ("nn", "console")

_ENTRY = re.compile(
    r"# (?P<code>[EW]\d{3}): (?P<summary>[^\n]+)\n\n"
    r"severity: (?P<severity>error|warning)\n\n"
    r"(?P<explanation>\S.*?)\n\n"
    r"## Wrong\n\n```(?P<wrong_language>\w+)\n(?P<wrong>.+?\n)```\n\n"
    r"## Fixed\n\n```(?P<fixed_language>\w+)\n(?P<fixed>.+?\n)```\n\Z",
    re.S,
)


@record
class Example:
    """A wrong or fixed example: a spec (`nn`, linted by the tests) or command lines (`console`)."""

    language: str
    text: str

    @property
    def linted(self) -> bool:
        return self.language == "nn"


@record
class Entry:
    """One diagnostic code as documented."""

    code: str
    severity: str  # "error" | "warning", as the code is emitted
    summary: str
    explanation: str
    wrong: Example
    fixed: Example


def load(folder: pathlib.Path = FOLDER) -> tuple[Entry, ...]:
    """Every entry, in code order."""
    return tuple(parse(path) for path in sorted(folder.glob("[EW][0-9][0-9][0-9].md")))


def parse(path: pathlib.Path) -> Entry:
    text = path.read_text(encoding="utf-8")
    m = _ENTRY.match(text)
    if m is None:
        raise ValueError(f"{path}: not a catalogue entry (see the layout in nnspec/catalogue.py)")
    if m["code"] != path.stem:
        raise ValueError(f"{path}: the heading names {m['code']}, the file {path.stem}")
    for part in ("wrong", "fixed"):
        if m[f"{part}_language"] not in LANGUAGES:
            raise ValueError(f"{path}: the {part} example is `{m[f'{part}_language']}`, not one of {LANGUAGES}")
    wrong, fixed = (Example(m[f"{part}_language"], m[part]) for part in ("wrong", "fixed"))
    return Entry(m["code"], m["severity"], m["summary"], m["explanation"], wrong, fixed)


def explain(entry: Entry) -> str:
    """What `nnspec explain CODE` prints."""
    parts = [f"{entry.code} ({entry.severity}): {entry.summary}", "", entry.explanation, ""]
    for title, example in (("Wrong", entry.wrong), ("Fixed", entry.fixed)):
        parts += [f"{title}:", "", *(f"    {line}".rstrip() for line in example.text.splitlines()), ""]
    if any(ex.linted and '"data/' in ex.text for ex in (entry.wrong, entry.fixed)):
        parts.append(f"The examples' data files are in {FOLDER / 'data'}.")
    return "\n".join(parts).rstrip()


def listing(entries: tuple[Entry, ...]) -> str:
    """What `nnspec explain` without a code prints: one line per code."""
    return "\n".join(f"{e.code}  {e.severity:<7}  {e.summary}" for e in entries)


def codes_markdown(entries: tuple[Entry, ...]) -> str:
    rows = [f"| {e.code} | {e.severity} | {e.summary.replace('|', chr(92) + '|')} |" for e in entries]
    return "\n".join(["| code | severity | meaning |", "| --- | --- | --- |", *rows]) + "\n"


def update_readme(text: str) -> str:
    """README text with the block between the codes markers replaced by the current table."""
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{codes_markdown(load())}{END}{tail}"
