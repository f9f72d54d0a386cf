"""The DAG folder a wrapped Airflow task needs at run time: its DAG file and the in-repository modules it imports.

Airflow puts the DAG folder on ``sys.path``, so ``import utils.db`` in ``dags/etl.py`` means ``dags/utils/db.py``
(with ``dags/utils/__init__.py``). :func:`runtime_files` follows such imports, transitively, through every module
found under the input root (and, as Python would for a script, beside the importing file); imports that resolve to
nothing there are installed packages, which the image provides. Files are read with Python's own parser, never
imported.

What is not followed: files a task opens by name at run time (SQL templates, ``template_searchpath``) and imports
built from strings (``importlib.import_module(name)``).
"""

from __future__ import annotations

import ast
from pathlib import Path

MAX_FILES = 2000


def _candidates(base: Path, dotted: list[str]) -> list[Path]:
    """The files ``import a.b.c`` may load under ``base``, packages' ``__init__.py`` included, or [] when the first
    part is not there (an installed package)."""
    found: list[Path] = []
    folder = base
    for i, part in enumerate(dotted):
        module, package = folder / f"{part}.py", folder / part
        if package.is_dir():
            init = package / "__init__.py"
            if init.is_file():
                found.append(init)
            folder = package
            if i == len(dotted) - 1:
                return found
            continue
        if module.is_file():
            found.append(module)
        return found if (found or i) else []
    return found


def _imports(tree: ast.Module) -> list[tuple[int, list[str]]]:
    """(level, dotted parts) of every import, ``from a import b`` also as ``a.b`` (b may be a submodule)."""
    out: list[tuple[int, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(0, alias.name.split(".")) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module.split(".") if node.module else []
            out.append((node.level, base))
            out += [(node.level, [*base, alias.name]) for alias in node.names if alias.name != "*"]
    return out


def runtime_files(dag_file: Path, root: Path) -> list[Path]:
    """``dag_file`` and every file under ``root`` it imports, transitively, sorted; paths are resolved."""
    root = root.resolve()
    start = dag_file.resolve()
    seen: set[Path] = {start}
    queue = [start]
    while queue and len(seen) < MAX_FILES:
        current = queue.pop()
        try:
            tree = ast.parse(current.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for level, dotted in _imports(tree):
            if level:
                base = current.parent
                for _ in range(level - 1):
                    base = base.parent
                bases = [base]
            else:
                bases = [root, current.parent] if current.parent != root else [root]
            if not dotted:
                init = bases[0] / "__init__.py"
                found = [init] if init.is_file() else []
            else:
                found = next((c for c in (_candidates(b, dotted) for b in bases) if c), [])
            for path in found:
                real = path.resolve()
                if real not in seen and real.is_relative_to(root):
                    seen.add(real)
                    queue.append(real)
    return sorted(p for p in seen if p.is_relative_to(root) or p == start)
