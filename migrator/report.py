"""The migration report: ``migration-report.json`` (a documented contract, see ``schema/``) and the stdout table.

Both are deterministic functions of the inputs: no timestamps, no absolute paths the user did not type, fixed key
and row order, so that a report can be committed and diffed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

from migrator import __version__
from migrator.diagnostics import Diagnostic, Severity

if TYPE_CHECKING:  # the backend imports Hera; the report only needs the shape
    from backends.argo.emit import TaskMapping

REPORT_NAME = "migration-report.json"
REPORT_VERSION = 1
TABLE_ROWS = 40


def diagnostic_order(d: Diagnostic) -> tuple[int, int, str, str]:
    # Within one file the path is the same; position first reads like the source, code and message break ties.
    return (d.line, d.column, d.code, d.message)


@dataclass
class WorkflowEntry:
    output: str  # file name inside the output folder
    kind: str
    name: str
    source_id: str
    source: str  # path:line of the definition
    tasks: list[TaskMapping] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)  # Secrets and ConfigMaps the wrapped tasks read
    inputs: list[str] = field(default_factory=list)  # artifact keys of the raw inputs its Init task reads

    def to_json(self) -> dict[str, Any]:
        return {"output": self.output, "kind": self.kind, "name": self.name, "source_id": self.source_id,
                "source": self.source, "tasks": [t.to_json() for t in self.tasks], "needs": list(self.needs),
                "inputs": list(self.inputs)}


@dataclass
class FileEntry:
    path: str
    workflows: list[str] = field(default_factory=list)
    native: int = 0
    wrapped: int = 0
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def count(self, severity: Severity) -> int:
        return sum(1 for d in self.diagnostics if d.severity is severity)

    @property
    def status(self) -> str:
        """failed: an error and nothing written; partial: written, with a wrapped task or an error/warning;
        ok otherwise, which includes a file that defines no workflow at all (there was nothing to migrate)."""
        errors = self.count(Severity.ERROR)
        if errors and not self.workflows:
            return "failed"
        if self.workflows and (self.wrapped or errors or self.count(Severity.WARNING)):
            return "partial"
        return "ok"

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "status": self.status, "workflows": list(self.workflows),
                "tasks": {"native": self.native, "wrapped": self.wrapped},
                "diagnostics": [d.to_json() for d in sorted(self.diagnostics, key=diagnostic_order)]}


@dataclass
class Report:
    language: str
    out_dir: str
    files: list[FileEntry] = field(default_factory=list)
    workflows: list[WorkflowEntry] = field(default_factory=list)
    version: str = __version__
    # Where the report was written; None when nothing could be written (then the CLI says so instead).
    report_path: str | None = None
    report_error: str | None = None  # why the report itself could not be written

    def diagnostics(self) -> list[Diagnostic]:
        return [d for f in self.files for d in f.diagnostics]

    def summary(self) -> dict[str, int]:
        statuses = [f.status for f in self.files]
        diagnostics = self.diagnostics()
        native = sum(f.native for f in self.files)
        wrapped = sum(f.wrapped for f in self.files)
        return {
            "files": len(self.files),
            "ok": statuses.count("ok"),
            "partial": statuses.count("partial"),
            "failed": statuses.count("failed"),
            "workflows": len(self.workflows),
            "tasks": native + wrapped,
            "tasks_native": native,
            "tasks_wrapped": wrapped,
            "errors": sum(1 for d in diagnostics if d.severity is Severity.ERROR),
            "warnings": sum(1 for d in diagnostics if d.severity is Severity.WARNING),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "report_version": REPORT_VERSION,
            "tool": "argo-migrate",
            "version": self.version,
            "language": self.language,
            "summary": self.summary(),
            "files": [f.to_json() for f in self.files],
            "workflows": [w.to_json() for w in self.workflows],
        }

    def dumps(self) -> str:
        # ensure_ascii=False: non-ASCII dag ids and messages stay readable; the file is written as UTF-8.
        return json.dumps(self.to_json(), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def load_schema() -> dict[str, Any]:
    text = resources.files("migrator").joinpath("schema", "migration-report.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def summary_table(report: Report, max_rows: int = TABLE_ROWS) -> str:
    """One screen for stdout: a row per file (the first ``max_rows``), then the totals."""
    header = ("status", "workflows", "native", "wrapped", "path")
    rows = [(f.status, str(len(f.workflows)), str(f.native), str(f.wrapped), f.path) for f in report.files]
    shown = rows[:max_rows]
    widths = [max([len(header[i])] + [len(r[i]) for r in shown]) for i in range(4)]

    def line(cells: tuple[str, ...]) -> str:
        status, *numbers, path = cells
        parts = [status.ljust(widths[0])] + [n.rjust(w) for n, w in zip(numbers, widths[1:], strict=True)]
        return "  ".join([*parts, path])

    lines = [line(header)] + [line(r) for r in shown]
    if len(rows) > max_rows:
        lines.append(f"… {len(rows) - max_rows} more")
    s = report.summary()
    lines.append(
        f"total: {s['files']} files ({s['ok']} ok, {s['partial']} partial, {s['failed']} failed), "
        f"{s['workflows']} workflows, {s['tasks']} tasks ({s['tasks_native']} native, "
        f"{s['tasks_wrapped']} wrapped), {s['errors']} errors, {s['warnings']} warnings"
    )
    return "\n".join(lines) + "\n"
