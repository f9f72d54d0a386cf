"""``argo-migrate run --local FILE``: options → run → summary, report and exit status.

Exit status: 0 when the workflow's phase is Succeeded, 1 when it is Failed or Error, 2 for a usage error or a
manifest that cannot run at all: one that ``argo-migrate lint`` finds errors in (printed as lint prints them), or
that the runner cannot run (a workflowTemplateRef, a parameter only a cluster can supply).
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import threading
from pathlib import Path

from backends.argo.local.engine import Options, Runner, RunResult
from backends.argo.local.executors import GRACE_S, Cluster, reset, stop_everything
from backends.argo.local.model import ManifestError, load, parse_parameters
from backends.argo.local.preflight import preflight
from backends.argo.local.report import report_json, write

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
HANDLER_TYPES = ("resource", "http")


def _mapping(flag: str, pairs: list[str], what: str) -> dict[str, Path]:
    """``NAME=PATH`` pairs; the path must exist (a folder for Secrets and ConfigMaps)."""
    out: dict[str, Path] = {}
    for pair in pairs:
        name, sep, target = pair.partition("=")
        if not sep or not name.strip() or not target.strip():
            raise ManifestError(f"{flag} {pair!r}: expected NAME=PATH ({what})")
        path = Path(target).expanduser().resolve()
        if not path.is_dir():
            raise ManifestError(f"{flag} {pair!r}: {target} is not a folder")
        out[name.strip()] = path
    return out


def _handlers(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        kind, sep, command = pair.partition("=")
        if not sep or kind not in HANDLER_TYPES or not command.strip():
            raise ManifestError(f"--handler {pair!r}: expected TYPE=COMMAND with TYPE one of {', '.join(HANDLER_TYPES)}")
        out[kind] = command
    return out


class _Stopped(BaseException):  # noqa: N818 - a signal, not an error: past every "except Exception"
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.name = signal.Signals(signum).name


def _interruptible(runner: Runner) -> RunResult:
    """Run, turning Ctrl-C and SIGTERM into :class:`_Stopped` so that every step's process group is killed
    (FINDINGS F10); a process that leaves its group with ``setsid`` escapes that, as only cgroups contain it."""
    def stop(signum: int, _frame: object) -> None:
        raise _Stopped(signum)

    if threading.current_thread() is not threading.main_thread():
        return runner.run()
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return runner.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_local(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        print("argo-migrate: error: --jobs must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    if args.timeout <= 0:
        print("argo-migrate: error: --timeout must be positive", file=sys.stderr)
        return EXIT_USAGE
    try:
        handlers = _handlers(args.handler or [])
        overrides = parse_parameters(args.parameter or [])
        cluster = Cluster(
            images=_mapping("--image", args.image or [], "an image and the host prefix standing in for it"),
            secrets=_mapping("--secret", args.secret or [], "a Secret and a folder with one file per key"),
            config_maps=_mapping("--config-map", args.config_map or [], "a ConfigMap and a folder of its keys"),
            config_map_search=(Path(args.file).resolve().parent,))
        library = [Path(p) for p in args.templates or []]
        for path in library:
            if not path.exists():
                raise ManifestError(f"--templates {path}: no such file or folder")
    except ManifestError as exc:
        print(f"argo-migrate: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if Path(args.file).is_dir():
        print(f"argo-migrate: error: {args.file} is a folder; run --local takes one manifest file", file=sys.stderr)
        return EXIT_USAGE
    checked = preflight(args.file)
    for d in [*checked.errors, *checked.warnings]:
        print(d, file=sys.stderr)
    if checked.errors:
        count = len(checked.errors)
        print(f"argo-migrate: error: {args.file}: lint found {count} error{'s' if count != 1 else ''}; not run",
              file=sys.stderr)
        return EXIT_USAGE
    try:
        manifest = load(Path(args.file), overrides, cluster.config_maps, library)
    except ManifestError as exc:
        print(f"argo-migrate: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.workdir:
        workdir = Path(args.workdir).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        workdir = Path(tempfile.mkdtemp(prefix=f"argo-migrate-run-{manifest.name}-"))
    options = Options(workdir=workdir, jobs=args.jobs, timeout=args.timeout, fast_forward=args.fast_forward,
                      handlers=handlers, allow_host_path=args.allow_host_path, cluster=cluster,
                      inputs=Path(args.inputs).resolve() if args.inputs else None)
    reset()
    try:
        runner = Runner(manifest, options)
    except ManifestError as exc:
        print(f"argo-migrate: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = _interruptible(runner)
    except _Stopped as stop:
        print(f"argo-migrate: interrupted by {stop.name}: stopping the running steps (SIGTERM, then SIGKILL after "
              f"{GRACE_S:g} s)", file=sys.stderr)
        killed = stop_everything()
        print(f"argo-migrate: stopped {killed} running step(s) and their process groups; run folder: {workdir}",
              file=sys.stderr)
        return 128 + stop.signum
    report = report_json(result, manifest.kind, manifest.path, manifest.name)
    write(report, workdir / "run.json")
    if args.report:
        write(report, Path(args.report))
    if not args.quiet:
        for key, node in result.nodes.items():
            note = f": {node.message}" if node.message else ""
            print(f"{node.phase:<9} {key} ({node.template}){note}")
    message = f": {result.message}" if result.message else ""
    print(f"workflow {manifest.name} {result.phase}{message}")
    print(f"run folder: {workdir}" + (f"; report: {args.report}" if args.report else ""))
    return EXIT_OK if result.phase == "Succeeded" else EXIT_FAILED
