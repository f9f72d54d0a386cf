"""One run: discover → parse → check → passes → emit → lint → write → report, one file at a time.

Each file is a unit of work: whatever goes wrong with it (unreadable, a frontend crash, a broken invariant, a failed
write) becomes a diagnostic on that file and the batch carries on. Only problems with the run itself (the frontend
cannot be loaded) propagate as exceptions.
"""

from __future__ import annotations

import importlib
import os
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import frontends
from migrator.diagnostics import Diagnostic, Severity, diag
from migrator.discover import discover
from migrator.invariants import check_diagnostics
from migrator.ir import Stage, Wrapped
from migrator.passes import PASSES, apply_strategy
from migrator.report import REPORT_NAME, FileEntry, Report, WorkflowEntry, diagnostic_order
from migrator.writer import WriteError, ensure_dir, write_text

if TYPE_CHECKING:
    from backends.argo.emit import EmitOptions
    from backends.argo.templates import Images
    from backends.wrappers import WrapperOptions
    from migrator.ir import Workflow
    from migrator.pods import PodOptions

KINDS = ("auto", "workflow", "workflow-template", "cron-workflow")
_MAX_MESSAGE = 400


@dataclass(frozen=True)
class PipelineOptions:
    kind: str = "auto"  # one of KINDS (the values of backends.argo.emit.Kind, kept as text to avoid importing Hera)
    strategy: str = "auto"  # one of migrator.passes.STRATEGIES
    images: Images | None = None  # None: the backend's defaults
    wrappers: WrapperOptions | None = None
    # Called with each file's entry as soon as it is done, so that the CLI can print diagnostics as they come.
    on_file: Callable[[FileEntry], None] | None = None
    pods: PodOptions | None = None  # resources, queue and GPU toleration asked of every pod
    # How files move (backends.argo.storage.StorageOptions, as plain values to keep Hera off the import path):
    # (mode, storage class, size, access mode).
    storage: tuple[str, str | None, str, str] | None = None
    # The frontend's own options (frontends.snakemake.SnakemakeOptions), passed to its parse as they are.
    frontend: object | None = None


def _display(path: str) -> str:
    """A path as diagnostics, reports and annotations show it: bytes that are not UTF-8 become U+FFFD and control
    characters (a newline that would forge a diagnostic line, a terminal escape) are escaped (FINDINGS F9, F16)."""
    path = path.replace(os.sep, "/") if os.sep != "/" else path
    if path.isprintable():
        return path
    text = os.fsencode(path).decode("utf-8", "replace")
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def internal_error(exc: BaseException, path: str, line: int = 0, column: int = 0, where: str = "") -> Diagnostic:
    # Exception texts can span lines (pydantic's do); a diagnostic is one line.
    detail = " ".join(str(exc).split())
    if len(detail) > _MAX_MESSAGE:
        detail = detail[:_MAX_MESSAGE] + "…"
    suffix = f" ({where})" if where else ""
    return diag("AM901", path, line, column, f"internal error: {type(exc).__name__}: {detail}{suffix}")


def _leaves_folder(source_id: str) -> bool:
    # Only ids that look like paths lose information worth a warning; `_` → `-` and case folding are routine.
    return "/" in source_id or "\\" in source_id or ".." in source_id


def _rejected(found: list[Diagnostic], known: list[Diagnostic], where: tuple[str, int, int]) -> list[Diagnostic]:
    """What lint finds wrong with a manifest we emitted, reported on the workflow's source.

    Every error or warning is a bug of ours (AM903), except two: AM406 (a field newer than Hera's models, which
    Argo accepts) and AM401 (too large), which is a limit of the input rather than a bug and is reported as itself,
    once, if the backend has not already said so. Empty: the manifest may be written.
    """
    path, line, column = where
    problems = [d for d in found if d.severity is not Severity.INFO and d.code != "AM406"]
    out: list[Diagnostic] = []
    for d in problems:
        if d.code == "AM401":
            if not any(k.code == "AM401" for k in known):
                out.append(diag("AM401", path, line, column, f"{d.message} (in {d.path}); not written"))
            continue
        out.append(diag("AM903", path, line, column,
                        f"invalid output: {d.message} ({d.code} at {d.path}:{d.line}:{d.column}); not written"))
    if problems and not out:  # only limits the backend already reported: say that nothing was written
        out.append(diag("AM401", path, line, column, f"{problems[0].path} exceeds Argo's limits; not written"))
    return out


class _Batch:
    """State shared by every file of one run: the backend, the options and the names already handed out."""

    def __init__(self, out_dir: str, options: PipelineOptions) -> None:
        # Imported here, not at module level: Hera takes about a second to import and `--help` needs none of it.
        from backends.argo.lint import lint_text
        from backends.argo.yaml_out import dump

        # Not `import backends.argo.emit as argo`: the package re-exports a function named `emit`, which that binds.
        argo = importlib.import_module("backends.argo.emit")

        self.argo = argo
        self.dump = dump
        self.lint = lint_text
        self.out_dir = out_dir
        self.out_root = Path(out_dir).resolve()
        self.kind = argo.Kind(options.kind)
        self.strategy = options.strategy
        extra: dict[str, Any] = {}
        if options.images is not None:
            extra["images"] = options.images
        if options.wrappers is not None:
            extra["wrappers"] = options.wrappers
        if options.pods is not None:
            extra["pods"] = options.pods
        if options.storage is not None:
            from backends.argo.storage import StorageOptions

            mode, storage_class, size, access_mode = options.storage
            extra["storage"] = StorageOptions(mode, storage_class, size, access_mode)
        self.emit_options: EmitOptions = argo.EmitOptions(kind=self.kind, **extra)
        self.taken: dict[str, str] = {}  # manifest name → "path:line" of the workflow that took it
        self._wrapper_text: dict[str, str] = {}

    def dump_wrapper(self, document: dict[str, Any]) -> str:
        name = str(document["metadata"]["name"])
        if name not in self._wrapper_text:
            self._wrapper_text[name] = self.dump(document)
        return self._wrapper_text[name]

    def unique_name(self, base: str, kind: str, source: str) -> str:
        # One namespace for all kinds: they share the output folder, where the name is the file name.
        max_len = self.argo.MAX_NAME[kind]
        name, n = base, 1
        while name in self.taken:
            n += 1
            suffix = f"-{n}"
            name = base[: max_len - len(suffix)].rstrip("-") + suffix
        self.taken[name] = source
        return name

    def migrate(self, wf: Workflow, entry: FileEntry, report: Report) -> list[Diagnostic]:
        """Check, transform, emit and write one workflow; returns its diagnostics."""
        origin = wf.origin
        path, line, column = _display(origin.path), origin.line, origin.column
        stage = "frontend"
        try:
            problems = check_diagnostics(wf, stage)
            for pass_name, transform in [*PASSES, ("strategy", apply_strategy(self.strategy))]:
                if problems:
                    break
                stage = f"pass {pass_name}"
                wf = transform(wf)
                problems = check_diagnostics(wf, stage)
            if problems:
                return [*wf.diagnostics, *problems]  # an inconsistent IR would make a wrong manifest: write none
            if wf.graph.number_of_nodes() == 0:
                if any(d.severity is Severity.ERROR for d in wf.diagnostics):
                    return list(wf.diagnostics)  # a pass refused the workflow and said why
                return [*wf.diagnostics, diag("AM007", path, line, column,
                                              f"workflow {wf.id!r} has no task; nothing is written for it")]

            stage = "naming"
            kind, _ = self.argo.choose_kind(wf, self.kind)  # emit reports a kind that does not fit (AM116)
            source = f"{path}:{line}"
            base = self.argo.manifest_name(wf, kind)
            first = self.taken.get(base)
            name = self.unique_name(base, kind, source)
            notes: list[Diagnostic] = []
            if first is not None:
                notes.append(diag("AM004", path, line, column,
                                  f"workflow name {base!r} is already used by {first}; this one is named {name!r}"))
            if _leaves_folder(wf.id):
                notes.append(diag("AM005", path, line, column,
                                  f"workflow id {wf.id!r} looks like a path; the manifest is named {name!r}"))

            stage = "emit"
            manifest = self.argo.emit(wf, name, self.emit_options)
            notes.extend(manifest.diagnostics)
            if any(d.severity is Severity.ERROR and d.code != "AM401" for d in manifest.diagnostics):
                return [*wf.diagnostics, *notes]  # the backend could not write it right: write nothing
            text = "---\n".join(self.dump(d) for d in [manifest.document, *manifest.parts])

            stage = "lint"
            rejected = _rejected(self.lint(text, f"{name}.yaml"), notes, (path, line, column))
            if rejected:
                return [*wf.diagnostics, *notes, *rejected]  # a manifest Argo would refuse is never written
            # The catalogue's WorkflowTemplates are the same in every file of the run (and linted by the tests):
            # dumped once, appended after the lint of what this workflow made.
            text = "---\n".join([text, *(self.dump_wrapper(d) for d in manifest.wrappers)])

            stage = "write"
            target = Path(self.out_dir) / f"{name}.yaml"
            # The name is a DNS-1123 label and cannot hold a separator; checked anyway, as this is a write.
            if target.resolve().parent != self.out_root:
                raise RuntimeError(f"manifest path {target} is outside the output folder")
            try:
                write_text(target, text)
            except WriteError as exc:
                return [*wf.diagnostics, *notes, diag("AM003", path, line, column, str(exc))]
        except Exception as exc:  # a bug of ours: one workflow lost, never the batch
            where = f"{stage}, workflow {wf.id!r}"
            return [*wf.diagnostics, internal_error(exc, path, line, column, where)]

        native = sum(1 for t in manifest.tasks if t.status == "native")
        entry.workflows.append(f"{name}.yaml")
        entry.native += native
        entry.wrapped += len(manifest.tasks) - native
        report.workflows.append(WorkflowEntry(output=f"{name}.yaml", kind=manifest.kind, name=name,
                                              source_id=wf.id, source=source, tasks=list(manifest.tasks),
                                              needs=list(manifest.needs), inputs=_raw_inputs(wf)))
        return [*wf.diagnostics, *notes]


def _raw_inputs(wf: Workflow) -> list[str]:
    """The artifact keys the workflow's Init task reads (what must be uploaded before it runs)."""
    return sorted(p.default or p.name for t in wf.tasks() if isinstance(t.action, Stage) and t.action.direction == "in"
                  for p in t.outputs)


MAX_SOURCE_BYTES = 64 * 1024 * 1024


def source_relative(wf: Workflow, relpath: str) -> Workflow:
    """Wrapped actions name their source file (payload ``file``) relative to the input root, the way the bundle
    of :mod:`migrator.source_bundle` lays it out, and never as the path was typed (the output must not depend on
    where the sources are checked out)."""
    for task in wf.tasks():
        action = task.action
        if isinstance(action, Wrapped) and dict(action.payload).get("file"):
            payload = tuple((k, relpath if k == "file" else v) for k, v in action.payload)
            wf.replace_task(replace(task, action=replace(action, payload=payload)))
    return wf


def needs_source(wf: Workflow) -> bool:
    return any(isinstance(t.action, Wrapped) and t.action.get("file") and t.action.engine in RUNS_SOURCE
               for t in wf.tasks())


# Wrappers that run the source file itself (the others reach a running engine, or run a command).
RUNS_SOURCE = frozenset({"airflow-task", "snakemake-job", "engine-in-pod", "slurm-job"})


def _write_runtime_files(language: str, runtime: dict[str, tuple[str, str]], out_dir: Path) -> list[Diagnostic]:
    """The source bundle of every file whose wrapped tasks run it, with what the frontend finds it imports."""
    from migrator.source_bundle import write_bundle

    module = importlib.import_module(frontends.FRONTENDS[language].module)
    follow = getattr(module, "runtime_files", None)
    files: dict[str, tuple[Path, str]] = {}
    for real, (root, shown) in sorted(runtime.items()):
        needed = follow(Path(real), Path(root)) if follow is not None else [Path(real).resolve()]
        root_real = Path(root).resolve()
        for path in needed:
            rel = path.relative_to(root_real).as_posix() if path.is_relative_to(root_real) else path.name
            display = shown if path == Path(real).resolve() else _display(str(Path(root) / rel))
            files.setdefault(rel, (path, display))
    try:
        return write_bundle(out_dir, files)
    except WriteError as exc:
        return [diag("AM003", str(out_dir), 0, 0, str(exc))]


def _read_source(path: str) -> bytes:
    """A source file's bytes; a named pipe or a device (``x.py -> /dev/zero``) is never opened, as reading it could
    block or never end (FINDINGS F15), and a file over MAX_SOURCE_BYTES is refused."""
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise OSError("not a regular file (a named pipe, a device or a socket); not read")
    if info.st_size > MAX_SOURCE_BYTES:
        raise OSError(f"{info.st_size:,} bytes, over the {MAX_SOURCE_BYTES:,} a source file may have; not read")
    return Path(path).read_bytes()


def _finish(entry: FileEntry, found: list[Diagnostic]) -> FileEntry:
    # Frontends may attach a diagnostic both to the file and to a workflow; print and count it once.
    entry.diagnostics = sorted(set(found), key=diagnostic_order)
    return entry


def run(language: str, paths: list[str], out_dir: str, options: PipelineOptions) -> Report:
    """Migrate ``paths`` into ``out_dir``.

    Raises :class:`frontends.MissingExtra` / :class:`frontends.NotYetAvailable` before touching anything when the
    frontend cannot run. When every path named is missing, nothing is written (not even the report).
    """
    row = frontends.FRONTENDS[language]
    parse = frontends.load(language)
    report = Report(language=language, out_dir=_display(out_dir))

    def add(entry: FileEntry) -> None:
        report.files.append(entry)
        if options.on_file is not None:
            options.on_file(entry)

    found = discover(paths, row.suffixes)
    for problem in found.diagnostics:
        shown = _display(problem.path)
        add(FileEntry(shown, diagnostics=[replace(problem, path=shown)]))
    if not found.files and len(found.missing) == len({_display(p) for p in paths}):
        return report

    try:
        ensure_dir(out_dir)
    except WriteError as exc:
        for real in found.files:
            path = _display(real)
            add(FileEntry(path, diagnostics=[diag("AM003", path, 0, 0, f"{exc}; nothing was written")]))
        return report

    # The backend (Hera) takes about a second to import: done in a thread while the first file is parsed, which
    # for Snakemake is a child process planning the workflow, so the two overlap on a second core.
    backend = threading.Thread(target=importlib.import_module, args=("backends.argo.emit",), daemon=True)
    backend.start()
    batch: _Batch | None = None
    source_root = getattr(importlib.import_module(row.module), "source_root", None)
    runtime: dict[str, tuple[str, str]] = {}  # source file whose wrapped tasks run it → (its root, shown path)
    for real in found.files:
        path = _display(real)  # what everything after reading shows; the file is read by its real name
        entry = FileEntry(path)
        collected: list[Diagnostic] = []
        try:
            data = _read_source(real)
        except OSError as exc:
            add(_finish(entry, [diag("AM002", path, 0, 0, f"cannot read: {exc.strerror or exc}")]))
            continue
        try:
            result = parse(path, data) if options.frontend is None else parse(path, data, options.frontend)
        except Exception as exc:
            add(_finish(entry, [internal_error(exc, path)]))
            continue
        collected.extend(result.diagnostics)
        root = found.roots.get(real, os.path.dirname(real) or os.curdir)
        if source_root is not None:  # the frontend knows better where the source's files are relative to
            root = str(source_root(Path(real), Path(root), options.frontend))
        relpath = Path(os.path.relpath(real, root)).as_posix()
        for wf in result.workflows:
            wf = source_relative(wf, relpath)
            if batch is None:
                backend.join()
                batch = _Batch(out_dir, options)
            collected.extend(batch.migrate(wf, entry, report))
            if needs_source(wf) and real not in runtime:
                runtime[real] = (root, path)
        add(_finish(entry, collected))

    if runtime:
        late = _write_runtime_files(language, runtime, Path(out_dir))
        for problem in late:
            add(FileEntry(problem.path, diagnostics=[problem]))

    try:
        target = Path(out_dir) / REPORT_NAME
        write_text(target, report.dumps())
        report.report_path = _display(str(target))
    except WriteError as exc:
        report.report_error = str(exc)
    return report
