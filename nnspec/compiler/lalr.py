"""An LALR(1) parser and lexer run from the tables lark computes for grammar.lark (tables.py).

It builds what lark's parse-tree builder would (the same children, `None` for an absent
`[optional]`, `?rules` inlined, `_rules` spliced, positions propagated the same way) but hands
each rule's children straight to the builder's method of that name instead of making a tree
for a transformer to walk: lark itself is needed only to compute the tables. A rule's method
receives `(extent, children)`; `extent` is `(line, column, end_line, end_column)` of the text the
rule covers, 1-based and end-exclusive, or `None` for a rule that matched nothing.
"""

from __future__ import annotations

import re

CALL, SPLICE, SINGLE = 0, 1, 2  # what a reduction makes: a builder call, a `_rule`'s children, one child
END = "$END"


class Token(str):
    """A token's text, with its terminal's name and where it is (lark's attribute names)."""

    def __new__(cls, type_: str, value: str, start_pos: int, line: int, column: int):
        token = super().__new__(cls, value)
        token.type, token.start_pos, token.line, token.column = type_, start_pos, line, column
        token.end_line, token.end_column = line, column
        return token


class UnexpectedInput(Exception):
    """A syntax error at `line`, `column` (1-based), `pos_in_stream` (0-based offset)."""

    def __init__(self, line: int, column: int, pos_in_stream: int):
        super().__init__(f"line {line}, column {column}")
        self.line, self.column, self.pos_in_stream = line, column, pos_in_stream


class UnexpectedCharacters(UnexpectedInput):
    """No terminal matches the text at this position."""


class UnexpectedToken(UnexpectedInput):
    """`token` (of type `$END` at the end of the text) where only `expected` terminals could go."""

    def __init__(self, token: Token, expected: set[str]):
        super().__init__(token.line, token.column, token.start_pos)
        self.token, self.expected = token, expected


class Parser:
    """Tables (see tables.compute) -> a parser; `parse` drives a builder over a text."""

    def __init__(self, tables: dict):
        self.states = tables["states"]  # per state: symbol -> next state, or ~rule index to reduce by
        self.start, self.end = tables["start"], tables["end"]
        # per rule: (its name, its builder method, size, what, plan, trailing Nones, single child's index)
        self.rules = tables["rules"]
        self.keywords = tables["keywords"]  # terminal -> {its text: the keyword's terminal}
        self.ignore = frozenset(tables["ignore"])
        self.patterns = tables["patterns"]  # terminal -> (lark's pattern type "str" | "re", its text)
        self.scanner = re.compile("|".join(f"(?P<{name}>{regexp})" for name, regexp in tables["terminals"]))

    def parse(self, text: str, builder):
        """The builder's result for the start rule over `text`; raises UnexpectedInput."""
        methods = [getattr(builder, rule[1]) if rule[3] == CALL else None for rule in self.rules]
        states, rules = self.states, self.rules
        stack = [self.start]  # parser states; values, extents and whether each is a tree run beside
        values, extents, trees = [], [], []
        last = None
        for token in self.tokens(text):
            last = token
            action = states[stack[-1]].get(token.type)
            while action is not None and action < 0:
                _reduce(rules[~action], methods[~action], stack, values, extents, trees, states)
                action = states[stack[-1]].get(token.type)
            if action is None:
                raise UnexpectedToken(token, _expected(states[stack[-1]]))
            stack.append(action)
            values.append(token)
            extents.append((token.line, token.column, token.end_line, token.end_column))
            trees.append(False)
        end = _end_token(last)
        while True:
            action = states[stack[-1]].get(END)
            if action is None or action >= 0:
                raise UnexpectedToken(end, _expected(states[stack[-1]]))
            _reduce(rules[~action], methods[~action], stack, values, extents, trees, states)
            if stack[-1] == self.end:
                return values[-1]

    def tokens(self, text: str):
        """The tokens of `text`, ignored terminals dropped, keywords given their own terminal."""
        match, keywords, ignore = self.scanner.match, self.keywords, self.ignore
        pos, line, line_start = 0, 1, 0
        while pos < len(text):
            found = match(text, pos)
            if found is None:
                raise UnexpectedCharacters(line, pos - line_start + 1, pos)
            value, type_, end = found.group(), found.lastgroup, found.end()
            token = None
            if type_ not in ignore:
                if type_ in keywords:
                    type_ = keywords[type_].get(value, type_)
                token = Token(type_, value, pos, line, pos - line_start + 1)
            newlines = value.count("\n")
            if newlines:
                line += newlines
                line_start = pos + value.rindex("\n") + 1
            pos = end
            if token is not None:
                token.end_line, token.end_column = line, end - line_start + 1
                yield token

    def pattern(self, terminal: str) -> tuple[str, str] | None:
        """A terminal's pattern as lark gives it: ("str", its text) or ("re", its regular expression)."""
        return self.patterns.get(terminal)


def _reduce(rule, method, stack, values, extents, trees, states) -> None:
    name, _, size, what, plan, trailing, single = rule
    if what == SINGLE and size == 1:  # `?a: b` (most reductions): b stays as it is, under a's state
        stack[-1] = states[stack[-2]][name]
        return
    if size:
        kids, spans, kinds = values[-size:], extents[-size:], trees[-size:]
        del stack[-size:], values[-size:], extents[-size:], trees[-size:]
    else:
        kids, spans, kinds = [], [], []
    extent = _covering(spans)
    if what == SINGLE:  # a `?rule` with one child is that child, which takes the rule's extent if a tree
        value = kids[single] if single is not None else None
        known = spans[single] if single is not None else None
        tree = single is not None and kinds[single]
        extent = extent if tree and extent is not None else known
    else:
        children = kids if plan is None else _children(kids, plan, trailing)
        value = children if what == SPLICE else method(extent, children)
        tree = True
    stack.append(states[stack[-1]][name])
    values.append(value)
    extents.append(extent)
    trees.append(tree)


def _children(kids: list, plan, trailing: int) -> list:
    """The children a rule's builder gets: tokens dropped, `_rule`s spliced, Nones for absent options."""
    out = []
    for index, splice, nones in plan:
        if nones:
            out += [None] * nones
        if splice and not out:
            out = kids[index]  # a left-recursive `_rule`'s list grows in place: linear, not quadratic
        elif splice:
            out += kids[index]
        else:
            out.append(kids[index])
    if trailing:
        out += [None] * trailing
    return out


def _covering(spans: list) -> tuple[int, int, int, int] | None:
    """From the first known start to the last known end among a rule's children (lark's rule)."""
    if spans and spans[0] is not None and spans[-1] is not None:
        return (spans[0][0], spans[0][1], spans[-1][2], spans[-1][3])
    first = next((s for s in spans if s is not None), None)
    if first is None:
        return None
    last = next(s for s in reversed(spans) if s is not None)
    return (first[0], first[1], last[2], last[3])


def _expected(row: dict) -> set[str]:
    return {symbol for symbol in row if symbol.isupper()}  # terminals; rules' names are lower case


def _end_token(last: Token | None) -> Token:
    if last is None:
        return Token(END, "", 0, 1, 1)
    end = Token(END, "", last.start_pos, last.line, last.column)
    end.end_line, end.end_column = last.end_line, last.end_column
    return end
