"""Command-line paths → the ordered list of source files one frontend reads.

The order is part of the output contract: duplicate workflow names are numbered in this order, so it must not depend
on the file system's listing order.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from migrator.diagnostics import Diagnostic, diag

# Besides hidden folders (``.git``, ``.venv``): byte-code caches hold no sources, only clutter.
_SKIPPED_DIRS = frozenset({"__pycache__"})
OWN_OUTPUT_MARKER = "argo-migrate-index.json"  # migrator/source_bundle.py's index


@dataclass
class Discovered:
    files: list[str] = field(default_factory=list)
    # AM001 for each missing path and AM006 for each folder without sources, in command-line order.
    diagnostics: list[Diagnostic] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    # file → the folder named on the command line that holds it (a file named itself: its own folder); what the
    # file's paths are relative to in the output (the DAG folder of a wrapped Airflow task).
    roots: dict[str, str] = field(default_factory=dict)


def matches(name: str, suffixes: Iterable[str]) -> bool:
    """``.py`` matches by extension; a bare name such as ``Snakefile`` must be the whole basename."""
    return any(name.endswith(s) if s.startswith(".") else name == s for s in suffixes)


def _display(path: str) -> str:
    # Reports and diagnostics show paths as the user typed them, but with one separator on every platform.
    return path.replace(os.sep, "/") if os.sep != "/" else path


def _walk(root: str, suffixes: Sequence[str]) -> list[str]:
    found: list[tuple[tuple[str, ...], str]] = []
    # followlinks=False: a symlinked folder pointing upwards would otherwise loop forever.
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in _SKIPPED_DIRS]
        if OWN_OUTPUT_MARKER in filenames:
            # A folder of source files argo-migrate wrote beside its manifests (the DAG files' ConfigMap): copies,
            # never sources; an output folder inside the input folder must not be migrated again.
            dirnames[:] = []
            continue
        rel = os.path.relpath(folder, root)
        parts = () if rel == os.curdir else tuple(rel.split(os.sep))
        for name in filenames:
            # Hidden files are editor swap/lock files (``.#dag.py``), never sources.
            if not name.startswith(".") and matches(name, suffixes):
                found.append(((*parts, name), os.path.join(folder, name)))
    # Sorting by path components (not by the joined string) keeps ``a/b.py`` next to ``a/c.py`` whatever the
    # separator sorts like, so the order is the same on every platform.
    return [_display(path) for _, path in sorted(found)]


def discover(paths: Sequence[str], suffixes: Sequence[str]) -> Discovered:
    """Expand files and folders; a file named explicitly is taken whatever its suffix (the user asked for it)."""
    result = Discovered()
    seen: set[str] = set()

    def take(path: str, root: str) -> None:
        key = os.path.normpath(path)
        if key not in seen:
            seen.add(key)
            result.files.append(path)
            result.roots[path] = root

    for raw in paths:
        shown = _display(raw)
        if os.path.isdir(raw):
            files = _walk(raw, suffixes)
            if not files:
                wanted = ", ".join(suffixes)
                result.diagnostics.append(diag("AM006", shown, 0, 0, f"no input files ({wanted}) in this folder"))
            for path in files:
                take(path, raw)
        elif os.path.exists(raw):
            take(shown, os.path.dirname(raw) or os.curdir)
        else:
            if shown not in result.missing:
                result.missing.append(shown)
                why = "broken symbolic link" if os.path.lexists(raw) else "no such file or folder"
                result.diagnostics.append(diag("AM001", shown, 0, 0, f"path does not exist: {why}"))
    return result
