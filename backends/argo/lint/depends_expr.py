"""A parser for the ``depends`` expressions of DAG tasks (our own; the grammar is Argo's, ARGO-SEMANTICS §2.1).

::

    expr   := and ("||" and)*
    and    := unary ("&&" unary)*
    unary  := "!" unary | "(" expr ")" | ref
    ref    := TASK ("." RESULT)?          TASK = [a-zA-Z0-9][-a-zA-Z0-9]*

``RESULT`` is one of the eight results Argo knows. Argo finds task names with a regular expression and hands the
rest to expr-lang, so a malformed expression is only noticed when the DAG runs; here it is a lint error with the
character where parsing stopped.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

RESULTS = ("Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned", "AnySucceeded", "AllFailed")
FAN_OUT_RESULTS = frozenset({"AnySucceeded", "AllFailed"})  # defined only on withItems/withParam/withSequence tasks

_TOKEN = re.compile(r"\s*(?:(?P<op>&&|\|\||!|\(|\))|(?P<ref>[a-zA-Z0-9][-a-zA-Z0-9]*(?:\.[a-zA-Z0-9_]*)?)|(?P<bad>\S))")


@dataclass(frozen=True)
class Ref:
    task: str
    result: str | None  # None: a bare name (Succeeded, Skipped or Daemoned, Argo's expansion)
    offset: int  # 0-based character offset in the expression


class DependsError(ValueError):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message, self.offset = message, offset


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:  # only trailing white space is left
            break
        kind = match.lastgroup or "bad"
        out.append((kind, match.group(kind), match.start(kind)))
        pos = match.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.i = 0
        self.refs: list[Ref] = []

    def _peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _fail(self, expected: str) -> DependsError:
        token = self._peek()
        if token is None:
            return DependsError(f"expected {expected} at the end of the expression", len(self.text.rstrip()))
        return DependsError(f"expected {expected}, found '{token[1]}' at character {token[2] + 1}", token[2])

    def parse(self) -> list[Ref]:
        if not self.tokens:
            raise DependsError("the expression is empty", 0)
        self._or()
        if self._peek() is not None:
            raise self._fail("'&&', '||' or the end of the expression")
        return self.refs

    def _or(self) -> None:
        self._and()
        while (token := self._peek()) is not None and token[1] == "||":
            self.i += 1
            self._and()

    def _and(self) -> None:
        self._unary()
        while (token := self._peek()) is not None and token[1] == "&&":
            self.i += 1
            self._unary()

    def _unary(self) -> None:
        token = self._peek()
        if token is None:
            raise self._fail("a task name, '!' or '('")
        kind, value, offset = token
        if value == "!":
            self.i += 1
            self._unary()
        elif value == "(":
            self.i += 1
            self._or()
            closing = self._peek()
            if closing is None or closing[1] != ")":
                raise self._fail(f"')' to close the '(' at character {offset + 1}")
            self.i += 1
        elif kind == "ref":
            self.i += 1
            self.refs.append(self._ref(value, offset))
        else:
            raise self._fail("a task name, '!' or '('")

    def _ref(self, value: str, offset: int) -> Ref:
        task, dot, result = value.partition(".")
        if not dot:
            return Ref(task, None, offset)
        if result not in RESULTS:
            shown = f"'{result}'" if result else "nothing"
            close = difflib.get_close_matches(result, RESULTS, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else f"one of {', '.join(RESULTS)}"
            raise DependsError(f"task result {shown} of '{task}' at character {offset + len(task) + 2} is not a "
                               f"result Argo knows ({hint})", offset + len(task) + 1)
        return Ref(task, result, offset)


def parse(text: str) -> list[Ref]:
    """Every task reference of ``text`` in order; raises DependsError when the expression is malformed."""
    try:
        return _Parser(text).parse()
    except RecursionError:
        raise DependsError("the expression nests parentheses too deeply", 0) from None
