"""``argo-migrate templates``: the catalogue written as WorkflowTemplate files, and its reference in Markdown.

The Markdown (``templates --doc``) is what the README's wrapper section holds between its markers, so the README is
always the catalogue's own description (tests/test_docs.py compares them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backends.argo.yaml_out import dump
from backends.wrappers import WrapperOptions
from backends.wrappers.catalogue import MODULES, WrapperDoc, module
from migrator.writer import ensure_dir, write_text


def documents(options: WrapperOptions) -> list[dict[str, Any]]:
    """Every WorkflowTemplate of the catalogue, in the catalogue's order (an engine may have several variants)."""
    out: list[dict[str, Any]] = []
    for engine in MODULES:
        mod: Any = module(engine)
        made = mod.workflow_template(options)
        out += made if isinstance(made, list) else [made]
    return out


def write_catalogue(options: WrapperOptions, folder: Path) -> list[Path]:
    ensure_dir(folder)
    written: list[Path] = []
    for document in documents(options):
        path = folder / f"{document['metadata']['name']}.yaml"
        write_text(path, dump(document))
        written.append(path)
    return written


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def doc_markdown(doc: WrapperDoc, names: list[str]) -> str:
    lines = [f"#### `{doc.engine}`", "", doc.summary, "",
             "WorkflowTemplate" + ("s" if len(names) > 1 else "") + ": " + ", ".join(f"`{n}`" for n in names)
             + " (call `templateRef: {name: …, template: main}`).", ""]
    if doc.parameters:
        lines += ["| parameter | default | meaning |", "|---|---|---|"]
        lines += [f"| `{p.name}` | {'`' + _cell(p.default) + '`' if p.default else '(required)' if p.default is None else '(empty)'}"
                  f" | {_cell(p.description)} |" for p in doc.parameters]
        lines.append("")
    if doc.secrets:
        lines += ["| Secret | keys | use |", "|---|---|---|"]
        lines += [f"| `{s.secret}`{' (optional)' if s.optional else ''} | {', '.join(f'`{k}`' for k in s.keys)} | "
                  f"{_cell(s.description)} |" for s in doc.secrets]
        lines.append("")
    if doc.outputs:
        lines += ["| output | kind | meaning |", "|---|---|---|"]
        lines += [f"| `{o.name}` | {o.kind} | {_cell(o.description)} |" for o in doc.outputs]
        lines.append("")
    if doc.stop:
        lines += [f"On stop: {doc.stop}", ""]
    if doc.local:
        lines += [f"Tested: {doc.local}", ""]
    return "\n".join(lines)


def reference_markdown(options: WrapperOptions | None = None) -> str:
    options = options or WrapperOptions()
    parts: list[str] = []
    for engine in MODULES:
        mod: Any = module(engine)
        made = mod.workflow_template(options)
        names = [d["metadata"]["name"] for d in (made if isinstance(made, list) else [made])]
        parts.append(doc_markdown(mod.DOC, names))
    return "\n".join(parts)
