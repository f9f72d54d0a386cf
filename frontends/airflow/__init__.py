"""Airflow frontend: DAG files → IR workflows, by static interpretation with LibCST (the file is never imported).

``parse`` is the frontend entry point the pipeline calls; the construct registry is in ``operators.py``.
"""

from __future__ import annotations

import ast
import os
import re

import libcst as cst

from frontends import FrontendResult
from frontends.airflow.build import Builder
from frontends.airflow.bundle import runtime_files
from frontends.airflow.dag_builder import DagBuilder
from frontends.airflow.plugins import PLUGIN_ERRORS, plugin_rows
from frontends.airflow.wrapping import FileFacts, Major, airflow_major, variables_named
from migrator.diagnostics import diag

__all__ = ["parse", "runtime_files"]

_reported_plugins = False
# Diagnostics by which the interpreter says that tasks of a DAG could not be seen (see apply_strategy's "auto").
_LOSSES = {"AM103", "AM115", "AM107"}
_LOST = re.compile(r"\bmissing\b|not migrated|ignored")


def _spans(starts: list[tuple[int, int]]) -> dict[int, tuple[int, int]]:
    """DAG index → the lines that belong to it: from its definition to the next DAG's (the first from line 1)."""
    ordered = sorted(starts)
    spans = {}
    for i, (line, index) in enumerate(ordered):
        first = 1 if i == 0 else line
        last = ordered[i + 1][0] - 1 if i + 1 < len(ordered) else 10**9
        spans[index] = (first, last)
    return spans


def _report_plugin_errors(path: str, result: FrontendResult) -> None:
    """Once per run, on the first file: a plugin that failed to load (its operators are then wrapped)."""
    global _reported_plugins
    if _reported_plugins:
        return
    _reported_plugins = True
    plugin_rows()
    for message in PLUGIN_ERRORS:
        result.diagnostics.append(diag("AM122", path, 1, 1, message))


def parse(path: str, source: bytes) -> FrontendResult:
    result = FrontendResult()
    if b"\0" in source:
        result.diagnostics.append(diag("AM002", path, 0, 0, "binary file, not Python source"))
        return result
    try:
        text = source.decode("utf-8")
    except UnicodeDecodeError as exc:
        result.diagnostics.append(diag("AM002", path, 0, 0, f"not UTF-8 text ({exc.reason} at byte {exc.start})"))
        return result
    # Python's own parser first: it refuses nesting it cannot compile (200 parentheses, a 5,000-term chain) with an
    # error, where LibCST's native parser would overflow its stack and take the whole batch down (FINDINGS F4).
    # Other syntax errors are left to LibCST, which knows newer grammar than the Python running this.
    tree: ast.Module | None = None
    try:
        tree = ast.parse(text)
    except (RecursionError, MemoryError):
        result.diagnostics.append(diag("AM100", path, 1, 1, "nested too deeply for Python to compile (Airflow could "
                                       "not import this file either)"))
        return result
    except SyntaxError as exc:
        if "too many" in str(exc.msg):  # too many nested parentheses / statically nested blocks
            result.diagnostics.append(diag("AM100", path, exc.lineno or 1, exc.offset or 1,
                                           f"syntax error: {exc.msg}"))
            return result
    except ValueError:
        pass  # a NUL or surrogate LibCST reports better
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        result.diagnostics.append(diag("AM100", path, exc.raw_line, exc.raw_column + 1,
                                       f"syntax error: {exc.message}"))
        return result
    _report_plugin_errors(path, result)
    interpreter = DagBuilder(path, module, text, tree)
    info = interpreter.run()
    result.diagnostics.extend(info.diagnostics)
    if not info.dags and not any(d.code == "AM126" for d in info.diagnostics):
        result.diagnostics.append(diag("AM101", path, 1, 1, "no DAG found in this file"))
        return result
    # LibCST reads grammar newer than this Python's ast (then ``tree`` is None): such a file is Airflow 3's.
    major = airflow_major(tree) if tree is not None else Major(3, "uses syntax newer than this Python's parser")
    facts = FileFacts(os.path.basename(path), major, tuple(variables_named(tree)) if tree is not None else ())
    builder = Builder(path, info, interpreter.module_scope, major.major == 3, facts)
    spans = _spans([(d.line, d.index) for d in info.dags])
    for draft in info.dags:
        workflow = builder.build(draft)
        if workflow is not None:
            first, last = spans[draft.index]
            workflow.incomplete = any(
                d.code in _LOSSES and first <= d.line <= last and _LOST.search(d.message) for d in info.diagnostics)
            result.workflows.append(workflow)
    result.diagnostics.extend(builder.diagnostics)
    return result
