"""The parser for grammar.lark: lark computes its tables once; nnspec's cache folder keeps them.

Later processes read the tables back (one marshal file) and never import lark. When the folder
cannot be written or the file is damaged, the tables are computed again in the process: the
same parser, only slower to start.
"""

from __future__ import annotations

import functools
import os
import zlib

from nnspec import __version__, cache
from nnspec.compiler import lalr

FORMAT = 2  # of the tables below; part of the file's name, so a new format never reads an old file
OPTIONS = {"parser": "lalr", "lexer": "basic", "propagate_positions": True, "maybe_placeholders": True}


def grammar_text() -> str:
    # Package data beside the package, never the working directory; importlib.resources would
    # cost lint a dozen imports.
    with open(os.path.join(os.path.dirname(os.path.dirname(__file__)), "grammar.lark"), encoding="utf-8") as f:
        return f.read()


@functools.lru_cache(maxsize=1)
def parser() -> lalr.Parser:
    grammar = grammar_text()
    name = cached_name(grammar)
    tables = cache.load(name)
    if not (isinstance(tables, dict) and tables.get("format") == FORMAT):  # none yet, torn or damaged
        tables = compute(grammar)
        cache.keep(name, tables)
    return lalr.Parser(tables)


def cached_name(grammar: str) -> str:
    key = zlib.crc32(f"{__version__}\n{FORMAT}\n{sorted(OPTIONS.items())}\n{grammar}".encode())
    return f"grammar_{key:08x}.marshal"


def compute(grammar: str) -> dict:
    """lark's LALR tables, lexer and tree-shaping rules for `grammar`, as plain data for lalr.Parser."""
    import lark
    from lark.lexer import UnlessCallback
    from lark.parsers.lalr_analysis import Shift

    frontend = lark.Lark(grammar, **OPTIONS).parser
    lexer, conf = frontend.lexer, frontend.parser.parser_conf
    table = frontend.parser.parser.parse_table
    terminals = lexer.scanner.terminals  # lark's order (priority, width, name), keywords taken out
    keywords = {}
    for name, callback in lexer.callback.items():
        if not isinstance(callback, UnlessCallback) or any(t.pattern.flags for t in callback.scanner.terminals):
            raise NotImplementedError(f"terminal {name}: lexer callbacks other than plain keywords")
        keywords[name] = {t.pattern.value: t.name for t in callback.scanner.terminals}
    if lexer.g_regex_flags or any(t.pattern.flags for t in terminals):
        raise NotImplementedError("regular expression flags")
    index = {rule: i for i, rule in enumerate(conf.rules)}
    states = [
        {
            symbol: (target if action is Shift else ~index[target])
            for symbol, (action, target) in table.states[s].items()
        }
        for s in range(len(table.states))
    ]
    return _plain(
        {
            "format": FORMAT,
            "terminals": [(t.name, t.pattern.to_regexp()) for t in terminals],
            "keywords": keywords,
            "ignore": sorted(lexer.ignore_types),
            "patterns": {t.name: (t.pattern.type, t.pattern.value) for t in lexer.terminals},
            "states": states,
            "start": table.start_states["start"],
            "end": table.end_states["start"],
            "rules": [_shaping(rule) for rule in conf.rules],
        }
    )


def _plain(value):
    """`value` with lark's str subclasses (its names are Tokens) as str: marshal takes only plain types."""
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return str(value) if isinstance(value, str) else value


def _shaping(rule) -> tuple:
    """(rule, method, size, what, plan, trailing Nones, single child): lark's parse-tree builder for `rule`.

    plan is None when the children pass unchanged, else (index, splice, Nones before it) per kept child.
    """
    if rule.options.template_source is not None:
        raise NotImplementedError(f"rule {rule.origin.name}: templates")
    expansion, keep = rule.expansion, rule.options.keep_all_tokens
    empty = rule.options.empty_indices
    # Nones before each symbol and after the last, for the `[optional]` parts absent in this expansion
    if empty:
        nones = [len(run) for run in "".join("1" if e else "0" for e in empty).split("0")]
    else:
        nones = [0] * (len(expansion) + 1)
    plan, waiting = [], 0
    for i, symbol in enumerate(expansion):
        waiting += nones[i]
        if keep or not (symbol.is_term and symbol.filter_out):
            plan.append((i, not symbol.is_term and symbol.name.startswith("_"), waiting))
            waiting = 0
    trailing = waiting + nones[len(expansion)]
    changed = bool(empty) or len(plan) < len(expansion) or any(splice for _, splice, _ in plan)
    name = rule.alias or rule.origin.name
    if rule.options.expand1 and not rule.alias:
        single = _single(plan, trailing)
        if single is not False:
            return (rule.origin.name, None, len(expansion), lalr.SINGLE, None, 0, single)
    what = lalr.SPLICE if name.startswith("_") else lalr.CALL
    return (rule.origin.name, name, len(expansion), what, tuple(plan) if changed else None, trailing, None)


def _single(plan: list, trailing: int):
    """For a `?rule`: the index of its one child, None if that child is an absent option, False if not one."""
    if any(splice for _, splice, _ in plan):
        raise NotImplementedError("a `_rule` inside a `?rule`")
    count = len(plan) + sum(n for _, _, n in plan) + trailing
    if count != 1:
        return False
    return plan[0][0] if plan else None
