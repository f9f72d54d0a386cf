"""``argo-migrate``: the command line.

Exit codes: 0 every input migrated (warnings allowed); 1 an error anywhere, or with ``--strict`` any wrapped task or
warning; 2 a usage error (bad option, every path named is missing, a frontend that cannot run here).

Nothing heavy is imported at module level: ``--help`` and ``explain`` must answer in milliseconds, while the IR
(networkx) and the backend (Hera) cost about a second and are imported only when a migration runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from migrator import __version__

if TYPE_CHECKING:
    from migrator.diagnostics import Diagnostic
    from migrator.report import FileEntry, Report

# Mirrors frontends.FRONTENDS (a test keeps them equal); importing that registry would import networkx.
LANGUAGES = {
    "airflow": "Airflow DAG files (*.py), read without importing them",
    "snakemake": "Snakemake workflows (Snakefile, *.smk); needs the 'snakemake' extra",
    "cwl": "CWL documents (*.cwl); needs the 'cwl' extra",
}
KIND_CHOICES = ("auto", "workflow", "workflow-template", "cron-workflow")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="argo-migrate",
        description="Migrate Airflow, Snakemake and CWL workflows to Argo Workflows manifests.",
        epilog="exit status: 0 all inputs migrated (warnings allowed), 1 some input failed "
               "(or, with --strict, a task was wrapped or a warning given), 2 usage error",
    )
    parser.add_argument("--version", action="version", version=f"argo-migrate {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for language, summary in LANGUAGES.items():
        sub = commands.add_parser(language, help=summary, description=f"Migrate {summary}.")
        sub.add_argument("paths", nargs="+", metavar="PATH", help="source files or folders (searched recursively)")
        sub.add_argument("-o", "--output", default="out", metavar="DIR",
                         help="folder for the manifests and migration-report.json (default: %(default)s)")
        sub.add_argument("--kind", choices=KIND_CHOICES, default="auto",
                         help="manifest kind; auto: CronWorkflow when the source has a cron schedule, "
                              "else WorkflowTemplate (default: %(default)s)")
        sub.add_argument("--strategy", choices=("auto", "migrate", "integrate"), default="auto",
                         help="migrate: native translations only (a workflow with an untranslatable task is not "
                              "written); integrate: run each workflow whole on its original engine; auto: native "
                              "where possible, the original engine per task where not, and whole workflows whose "
                              "structure is only known at run time (default: %(default)s)")
        sub.add_argument("--strict", action="store_true",
                         help="exit 1 if any task is wrapped or any warning is given")
        sub.add_argument("--quiet", action="store_true", help="do not print the summary table")
        sub.add_argument("--format", choices=("text", "json"), default="text",
                         help="diagnostics on stderr: 'file:line:col: severity CODE: message', "
                              "or one JSON object per line (default: %(default)s)")
        sub.set_defaults(language=language)
    explain = commands.add_parser("explain", help="explain a diagnostic code",
                                  description="Print the title, severity and documentation of a diagnostic code.")
    explain.add_argument("code", metavar="CODE", help="for example AM100")
    matrix = commands.add_parser("matrix", help="print the supported-construct matrix of a frontend (Markdown)",
                                 description="Print the support matrix generated from a frontend's registry.")
    matrix.add_argument("language", choices=("airflow",), help="the source language")
    _add_lint(commands)
    _add_run(commands)
    return parser


def _add_run(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    run = commands.add_parser(
        "run", help="run an Argo manifest on this machine with Argo's semantics (a verifier)",
        description="Run a Workflow, WorkflowTemplate or CronWorkflow locally: container and script templates run "
                    "as host processes, DAGs and steps follow Argo's rules; writes a JSON report.",
        epilog="exit status: 0 the workflow Succeeded, 1 it Failed or Errored, 2 usage error or a manifest "
               "that cannot run (malformed, unknown kind, cycle, missing template)")
    run.add_argument("--local", action="store_true", required=True, help="run on this machine (required)")
    run.add_argument("file", metavar="FILE", help="the manifest (YAML)")
    run.add_argument("-p", "--parameter", action="append", metavar="NAME=VALUE",
                     help="set a workflow parameter (repeatable)")
    run.add_argument("--report", metavar="FILE", help="write the run report (JSON) here too")
    run.add_argument("--jobs", type=int, default=2, metavar="N",
                     help="steps running at once (default: %(default)s)")
    run.add_argument("--timeout", type=float, default=600.0, metavar="S",
                     help="global deadline in seconds; running steps are killed (default: %(default)s)")
    run.add_argument("--workdir", metavar="DIR",
                     help="run folder for logs, volumes and artifacts (default: a new temporary folder)")
    run.add_argument("--fast-forward", action="store_true",
                     help="do not wait for suspend durations and retry backoffs (recorded in the report)")
    run.add_argument("--handler", action="append", metavar="TYPE=COMMAND",
                     help="run resource or http templates with a local command (template JSON on stdin)")
    run.add_argument("--allow-host-path", action="store_true",
                     help="let hostPath volumes name host folders (refused by default: a step could write there)")
    run.add_argument("--quiet", action="store_true", help="print only the workflow's phase")


def _add_lint(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    lint = commands.add_parser(
        "lint", help="check Argo Workflow, WorkflowTemplate and CronWorkflow manifests",
        description="Check Argo manifests (ours or anyone's): structure by Argo's API (Hera's models, unknown fields "
                    "are errors) and the semantic rules of Argo's validator. Folders are searched for *.yaml, "
                    "*.yml and *.json; the files named are linted together, so templateRefs between them are "
                    "checked.",
        epilog="exit status: 0 no error (warnings allowed), 1 some error, 2 usage error or every path missing")
    lint.add_argument("paths", nargs="+", metavar="PATH", help="manifest files or folders (searched recursively)")
    lint.add_argument("--format", choices=("text", "json"), default="text",
                      help="diagnostics on stdout: 'file:line:col: severity CODE: message', or one JSON object "
                           "per line (default: %(default)s)")


def _lint(args: argparse.Namespace) -> int:
    from backends.argo.lint import lint_paths
    from migrator.diagnostics import Severity

    diagnostics, checked = lint_paths(list(args.paths))
    for d in diagnostics:
        print(_format(d, args.format))
    if checked == 0 and diagnostics and all(d.code == "AM001" for d in diagnostics):
        return EXIT_USAGE  # nothing named exists: most likely a typo on the command line
    errors = sum(1 for d in diagnostics if d.severity is Severity.ERROR)
    if args.format == "text":
        warnings = sum(1 for d in diagnostics if d.severity is Severity.WARNING)
        print(f"checked {checked} file{'s' if checked != 1 else ''}: {errors} error{'s' if errors != 1 else ''}, "
              f"{warnings} warning{'s' if warnings != 1 else ''}")
    return EXIT_FAILED if errors else EXIT_OK


def _format(d: Diagnostic, style: str) -> str:
    return json.dumps(d.to_json(), ensure_ascii=False) if style == "json" else str(d)


def _explain(code: str) -> int:
    from migrator.codes import CODES

    row = CODES.get(code.strip().upper())
    if row is None:
        print(f"argo-migrate: unknown diagnostic code {code!r}", file=sys.stderr)
        return EXIT_USAGE
    print(f"{row.code}: {row.title} ({row.severity})\n\n{row.doc}")
    return EXIT_OK


def _exit_status(report: Report, strict: bool) -> int:
    if report.files and all(any(d.code == "AM001" for d in f.diagnostics) for f in report.files):
        return EXIT_USAGE  # nothing named exists: most likely a typo on the command line
    summary = report.summary()
    if summary["errors"] or report.report_error:
        return EXIT_FAILED
    if strict and (summary["tasks_wrapped"] or summary["warnings"]):
        return EXIT_FAILED
    return EXIT_OK


def _migrate(args: argparse.Namespace) -> int:
    from frontends import MissingExtra, NotYetAvailable
    from migrator.pipeline import PipelineOptions, run
    from migrator.report import summary_table

    def on_file(entry: FileEntry) -> None:
        for d in entry.diagnostics:
            print(_format(d, args.format), file=sys.stderr)
        sys.stderr.flush()  # interleave sensibly with stdout when both go to one terminal or log

    options = PipelineOptions(kind=args.kind, strategy=args.strategy, on_file=on_file)
    try:
        report = run(args.language, list(args.paths), args.output, options)
    except (MissingExtra, NotYetAvailable) as exc:
        print(f"argo-migrate: error: {exc}", file=sys.stderr)
        return EXIT_USAGE

    if report.report_error:
        print(f"argo-migrate: error: {report.report_error}", file=sys.stderr)
    if not args.quiet:
        sys.stdout.write(summary_table(report))
    written = len(report.workflows)
    where = f"report: {report.report_path}" if report.report_path else "no report written"
    print(f"wrote {written} workflow{'s' if written != 1 else ''} to {args.output} ({where})")
    return _exit_status(report, args.strict)


def _tolerant_streams() -> None:
    # A path or message that the terminal's encoding cannot show must not crash the run after the work is done.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits for --help, --version and usage errors; callers want a status
        return exc.code if isinstance(exc.code, int) else (EXIT_OK if exc.code is None else EXIT_USAGE)
    _tolerant_streams()
    if args.command == "explain":
        return _explain(args.code)
    if args.command == "matrix":
        from migrator.matrix import support_matrix

        sys.stdout.write(support_matrix(args.language))
        return EXIT_OK
    if args.command == "run":
        from backends.argo.local.cli import run_local

        return run_local(args)
    if args.command == "lint":
        return _lint(args)
    return _migrate(args)


if __name__ == "__main__":
    sys.exit(main())
