"""``argo-migrate lint``: check Workflow, WorkflowTemplate, ClusterWorkflowTemplate and CronWorkflow manifests.

Two layers, both reporting ``path:line:col: severity CODE: message`` diagnostics (AM4xx):

- ``structure``: every field exists in Argo's API and has the right type, by Hera's generated models (typos are
  errors; fields newer than Hera's models are warnings);
- ``rules``: the semantic checks of Argo's ``workflow/validate/validate.go`` (names, references, ``depends``,
  cycles, parameters, loops, limits), one module each.

``lint_paths`` lints a set of files together, so that a ``templateRef`` to a WorkflowTemplate in another file of
the set is checked. Nothing here raises on bad input: unreadable files (named pipes and devices are not even
opened), malformed YAML, integers too long to read and unexpected shapes are diagnostics. The work is linear in the
size of the input, whatever its shape (FINDINGS F7): ``run --local`` lints every manifest before it runs it, and the
pipeline every manifest it writes.
"""

from __future__ import annotations

import contextlib
import difflib
import gc
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backends.argo.lint import structure
from backends.argo.lint.findings import Finding
from backends.argo.lint.loader import Document, LoadError, load
from backends.argo.lint.manifest import LINTED_KINDS, Catalog, Manifest
from backends.argo.lint.positions import Positions
from backends.argo.lint.rules import RULES
from migrator.diagnostics import Diagnostic, diag
from migrator.discover import discover
from migrator.report import REPORT_NAME

__all__ = ["LINTED_KINDS", "LINT_SUFFIXES", "RULES", "lint_paths", "lint_text"]

LINT_SUFFIXES = (".yaml", ".yml", ".json")
API_VERSION = "argoproj.io/v1alpha1"
# Kinds of the argoproj.io API group that are not workflows: known, valid, not checked (AM404).
OTHER_ARGO_KINDS = frozenset({
    "WorkflowEventBinding", "WorkflowTaskSet", "WorkflowTaskResult", "WorkflowArtifactGCTask", "EventSource",
    "Sensor", "EventBus", "Rollout", "AnalysisTemplate", "ClusterAnalysisTemplate", "AnalysisRun", "Experiment",
    "Application", "ApplicationSet", "AppProject",
})


@dataclass
class _Source:
    path: str
    text: str
    documents: list[Document] = field(default_factory=list)
    error: LoadError | None = None


@contextlib.contextmanager
def _without_cycle_collection() -> Iterator[None]:
    # Reading and linting a file build large trees (data, YAML nodes) without reference cycles, which reference
    # counting frees; the cycle collector's repeated passes over them while they grow only cost time (4x on the
    # YAML of a 20,000-task DAG). Turned off per file, so cyclic garbage cannot pile up across a large batch.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@_without_cycle_collection()
def _read(text: str, path: str) -> _Source:
    source = _Source(path, text)
    try:
        source.documents = load(text, path)
    except LoadError as exc:
        source.error = exc
    return source


def _catalog(sources: Sequence[_Source]) -> Catalog:
    catalog = Catalog()
    for source in sources:
        for document in source.documents:
            if isinstance(document.data, dict):
                catalog.add(str(document.data.get("kind")), document.data)
    return catalog


def _close_kind(kind: str, candidates: Sequence[str]) -> str | None:
    lowered = {c.lower(): c for c in candidates}
    if kind.lower() in lowered:
        return lowered[kind.lower()]
    close = difflib.get_close_matches(kind, list(candidates), n=1, cutoff=0.8)
    return close[0] if close else None


def _kind_findings(data: dict[str, Any]) -> tuple[str | None, list[Finding]]:
    """The kind to lint (None: skip the document) and what is wrong with kind and apiVersion."""
    kind, api = data.get("kind"), data.get("apiVersion")
    if not isinstance(kind, str) or not kind:
        return None, [Finding("AM403", (), "the document has no kind: it is not a Kubernetes manifest")]
    if kind in LINTED_KINDS:
        if api is None:
            return kind, [Finding("AM403", (), f"apiVersion is missing; a {kind} is {API_VERSION}")]
        if api != API_VERSION:
            return kind, [Finding("AM407", ("apiVersion",), f"apiVersion of a {kind} must be {API_VERSION}, not "
                                                            f"'{api}'")]
        return kind, []
    argo_group = isinstance(api, str) and api.startswith("argoproj.io/")
    if argo_group and kind in OTHER_ARGO_KINDS:
        return None, [Finding("AM404", (), f"{kind} is not a workflow kind; not checked")]
    close = _close_kind(kind, [*LINTED_KINDS, *OTHER_ARGO_KINDS] if argo_group else LINTED_KINDS)
    if close is not None or argo_group:
        hint = f" (did you mean '{close}'?)" if close else ""
        return None, [Finding("AM403", ("kind",), f"unknown kind '{kind}'{hint}")]
    return None, [Finding("AM404", (), f"{kind} ({api or 'no apiVersion'}) is not a workflow kind; not checked")]


def _check(document: Document, catalog: Catalog) -> list[Finding]:
    data = document.data
    if not isinstance(data, dict):
        found = {str: "a string", list: "a list", bool: "a boolean", int: "a number", float: "a number"}.get(
            type(data), type(data).__name__)
        return [Finding("AM402", (), f"document {document.index + 1} is not a mapping (found {found})")]
    kind, findings = _kind_findings(data)
    if kind is None:
        return findings
    findings.extend(structure.check(data, kind))
    manifest = Manifest(kind, data, catalog)
    for rule in RULES:
        try:
            findings.extend(rule.check(manifest))
        except Exception as exc:  # a bug of ours: say so, and go on with the other rules
            detail = " ".join(str(exc).split())[:400]
            findings.append(Finding("AM901", (), f"internal error in lint rule {rule.name}: "
                                                 f"{type(exc).__name__}: {detail}"))
    return findings


@_without_cycle_collection()
def _lint(source: _Source, catalog: Catalog) -> list[Diagnostic]:
    if source.error is not None:
        e = source.error
        return [diag("AM402", source.path, e.line, e.column, e.message)]
    positions = Positions(source.text, [(d.line, d.column) for d in source.documents])
    out: list[Diagnostic] = []
    for document in source.documents:
        for line, column, key in document.duplicates:
            if line == 0:
                line, column = document.line, document.column
            out.append(diag("AM421", source.path, line, column,
                            f"key '{key}' appears twice in one mapping; the last value is used"))
        if document.data is None:
            continue  # an empty document (a stray '---')
        for finding in _check(document, catalog):
            line, column = positions.locate(document.index, finding.where, finding.at_key)
            out.append(diag(finding.code, source.path, line, column, finding.message))
    return sorted(out, key=lambda d: (d.line, d.column, d.code, d.message))


def lint_text(text: str, path: str, catalog: Catalog | None = None) -> list[Diagnostic]:
    """Lint one file's text; ``path`` is used in the diagnostics and (``*.json``) to choose the parser."""
    source = _read(text, path)
    return _lint(source, catalog if catalog is not None else _catalog([source]))


def _not_regular(mode: int) -> str | None:
    """What a file that is not a regular file is; reading one could block forever (a FIFO) or never end
    (``/dev/zero``)."""
    if stat.S_ISREG(mode):
        return None
    for test, what in ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder")):
        if test(mode):
            return what
    return "a special file"


def _decode(path: str) -> tuple[str | None, Diagnostic | None]:
    try:
        # Checked before opening: opening a FIFO for reading blocks until a writer comes.
        kind = _not_regular(os.stat(path).st_mode)
        if kind is not None:
            return None, diag("AM002", path, 0, 0, f"not read: {kind}, not a regular file")
        data = Path(path).read_bytes()
    except OSError as exc:
        return None, diag("AM002", path, 0, 0, f"cannot read: {exc.strerror or exc}")
    if b"\x00" in data:
        return None, diag("AM002", path, 0, 0, "binary file (it contains NUL bytes)")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return None, diag("AM002", path, 0, 0, f"not UTF-8 (byte {exc.start})")


def lint_paths(paths: Sequence[str]) -> tuple[list[Diagnostic], int]:
    """Lint files and folders (``*.yaml``, ``*.yml``, ``*.json`` under folders; files named are read whatever
    their suffix) as one set; returns the diagnostics in file order and the number of files checked."""
    found = discover(list(paths), LINT_SUFFIXES)
    diagnostics = list(found.diagnostics)
    sources: list[_Source] = []
    for path in found.files:
        if Path(path).name == REPORT_NAME:  # `argo-migrate lint out/` after a migration
            diagnostics.append(diag("AM404", path, 0, 0, "argo-migrate's migration report, not a manifest; not checked"))
            continue
        text, problem = _decode(path)
        if problem is not None:
            diagnostics.append(problem)
        if text is not None:
            sources.append(_read(text, path))
    catalog = _catalog(sources)
    for source in sources:
        diagnostics.extend(_lint(source, catalog))
    return diagnostics, len(found.files)
