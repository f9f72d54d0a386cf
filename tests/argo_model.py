"""A small model of how Argo decides a DAG task's phase from ``depends`` and ``when`` (ARGO-SEMANTICS.md §2.1-2.2).

Independent of the backend's code: it parses the emitted strings, so a wrong string fails the tests.
"""

from __future__ import annotations

import re

_RESULT = re.compile(r"([a-zA-Z0-9][-a-zA-Z0-9]*)\.([A-Z][a-zA-Z]+)|([a-zA-Z0-9][-a-zA-Z0-9]*)")
_RESULT_PHASE = {"Succeeded": "Succeeded", "Failed": "Failed", "Errored": "Error", "Skipped": "Skipped",
                 "Omitted": "Omitted"}


def eval_depends(expr: str, phases: dict[str, str]) -> bool:
    def token(match: re.Match[str]) -> str:
        if match.group(1):
            name, result = match.group(1), match.group(2)
            return str(phases[name] == _RESULT_PHASE[result])
        name = match.group(3)
        # A bare name: Succeeded, Skipped or Daemoned (no continueOn is ever emitted).
        return str(phases[name] in ("Succeeded", "Skipped"))

    python = _RESULT.sub(token, expr).replace("&&", " and ").replace("||", " or ")
    # After substitution only True/False, and/or and parentheses may remain.
    assert re.fullmatch(r"[\sTrueFalsandor()]*", python), python
    return bool(eval(python))  # noqa: S307 - the string is checked above


def eval_when(expr: str, phases: dict[str, str]) -> bool:
    substituted = re.sub(r"\{\{tasks\.([-a-zA-Z0-9]+)\.status\}\}", lambda m: phases[m.group(1)], expr)
    python = re.sub(r"\b([A-Z][a-zA-Z]+)\b", lambda m: repr(m.group(1)), substituted)
    python = python.replace("&&", " and ").replace("||", " or ")
    assert re.fullmatch(r"[\s'A-Za-z()=!]*", python), python
    return bool(eval(python))  # noqa: S307


def task_phase(depends: str | None, when: str | None, phases: dict[str, str]) -> str:
    """The phase of a task that would succeed if it ran: Omitted, Skipped or Succeeded."""
    if depends is not None and not eval_depends(depends, phases):
        return "Omitted"
    if when is not None and not eval_when(when, phases):
        return "Skipped"
    return "Succeeded"
