"""``argo-migrate``: the command line.

Exit codes: 0 every input migrated (warnings allowed); 1 an error anywhere, or with ``--strict`` any wrapped task or
warning; 2 a usage error (bad option, every path named is missing, a frontend that cannot run here).

Nothing heavy is imported at module level: ``--help`` and ``explain`` must answer in milliseconds, while the IR
(networkx) and the backend (Hera) cost about a second and are imported only when a migration runs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from migrator import __version__

if TYPE_CHECKING:
    from backends.wrappers import WrapperOptions
    from migrator.diagnostics import Diagnostic
    from migrator.pods import PodOptions
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
        sub.add_argument("--default-resources", metavar="SPEC",
                         help="requests for every pod where the source gives none, per resource: "
                              "cpu=500m,memory=512Mi[,ephemeral-storage=1Gi,gpu=1]")
        sub.add_argument("--queue", metavar="NAME",
                         help="submit every pod to the Kueue LocalQueue NAME (label kueue.x-k8s.io/queue-name)")
        sub.add_argument("--gpu-toleration", nargs="?", const="nvidia.com/gpu", metavar="KEY",
                         help="pods that request a GPU tolerate the taint KEY (operator Exists, effect NoSchedule; "
                              "KEY default: nvidia.com/gpu)")
        sub.add_argument("--storage", choices=("volume", "artifacts"), default="volume",
                         help="how files move between tasks: a shared workspace volume, or the artifact repository "
                              "(default: %(default)s)")
        sub.add_argument("--storage-class", metavar="NAME", help="storage class of the workspace volume")
        sub.add_argument("--storage-size", metavar="QUANTITY", default="10Gi",
                         help="size of the workspace volume (default: %(default)s)")
        sub.add_argument("--storage-access-mode", default="ReadWriteOnce",
                         choices=("ReadWriteOnce", "ReadWriteMany", "ReadWriteOncePod"),
                         help="access mode of the workspace volume; ReadWriteMany lets parallel tasks on several "
                              "nodes share it (default: %(default)s)")
        if language == "airflow":
            _add_wrapper_options(sub)
        if language == "snakemake":
            _add_snakemake_options(sub)
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
    matrix.add_argument("language", choices=("airflow", "snakemake"), help="the source language")
    templates = commands.add_parser(
        "templates", help="write the integration wrappers as WorkflowTemplates (one file each)",
        description="Write the wrapper catalogue: one WorkflowTemplate per engine (airflow-task for each Airflow "
                    "major, airflow-dag, slurm-job, spark-application, engine-in-pod, snakemake-job, python-function), each "
                    "documenting its parameters, Secrets and outputs. Migrated workflows call them by templateRef.")
    templates.add_argument("-o", "--output", metavar="DIR", help="folder to write them to")
    templates.add_argument("--doc", action="store_true",
                           help="print their reference (Markdown: parameters, Secrets, outputs) instead")
    _add_wrapper_options(templates)
    _add_lint(commands)
    _add_run(commands)
    return parser


def _add_snakemake_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--directory", "-d", metavar="DIR",
                        help="Snakemake's working directory (default: the folder holding workflow/, or the "
                             "Snakefile's folder)")
    parser.add_argument("--configfile", action="append", default=[], metavar="FILE",
                        help="a config file, as Snakemake's --configfile (repeatable)")
    parser.add_argument("--config", action="append", default=[], metavar="KEY=VALUE",
                        help="a config value (YAML), as Snakemake's --config (repeatable)")
    parser.add_argument("--target", action="append", default=[], metavar="TARGET",
                        help="a target rule or file (repeatable; default: the first rule)")
    parser.add_argument("--profile", metavar="DIR",
                        help="a Snakemake profile whose threads, resources and config apply (default: "
                             "workflow/profiles/default when it exists)")
    parser.add_argument("--stub-files", metavar="LISTING",
                        help="a listing of the input files on the cluster (one path per line, relative to the "
                             "working directory): placeholders exist while Snakemake plans, so that "
                             "glob_wildcards and input-based choices see them")
    parser.add_argument("--default-image", metavar="IMAGE",
                        help="image of the jobs whose rule names no container (default: snakemake/snakemake:v9.27.1)")
    parser.add_argument("--parse-timeout", type=float, default=120.0, metavar="S",
                        help="stop Snakemake's parsing and planning of a workflow after S seconds (default: "
                             "%(default)s)")
    hpc = parser.add_argument_group(
        "SLURM", "with --slurm-host, a workflow run whole (--strategy integrate, a checkpoint, pipe()) runs as one "
        "SLURM job on that cluster (the slurm-job wrapper: ssh with the Secret slurm-ssh) instead of in a pod")
    hpc.add_argument("--slurm-host", type=_login_word, metavar="HOST", help="the cluster's login node")
    hpc.add_argument("--slurm-port", type=int, default=22, metavar="PORT", help="its ssh port (default: 22)")
    hpc.add_argument("--slurm-user", type=_login_word, default="", metavar="USER",
                     help="the login user (default: the pod's)")
    hpc.add_argument("--slurm-remote-dir", type=_login_word, default="argo-migrate", metavar="DIR",
                     help="the folder on the login node holding each run's work folder (relative: in the home; "
                          "default: argo-migrate)")
    hpc.add_argument("--slurm-partition", default="", metavar="NAME", help="sbatch --partition")
    hpc.add_argument("--slurm-account", default="", metavar="NAME", help="sbatch --account")
    hpc.add_argument("--slurm-time", default="", metavar="TIME", help="sbatch --time")
    hpc.add_argument("--slurm-setup", default="", metavar="SHELL",
                     help="shell lines the job runs before Snakemake (module load, conda activate, PATH=...)")


def _login_word(value: str) -> str:
    """A host, user or folder ssh and the login shell take as one plain word (the wrapper refuses others too)."""
    if value.startswith("-") or not re.fullmatch(r"[A-Za-z0-9._:@~+/-]*", value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a plain word (letters, digits, . _ : @ ~ + / -)")
    return value


def _snakemake_options(args: argparse.Namespace) -> object:
    from frontends.snakemake import DEFAULT_IMAGE, SlurmLogin, SnakemakeOptions

    slurm = SlurmLogin(host=args.slurm_host, port=args.slurm_port, user=args.slurm_user,
                       remote_dir=args.slurm_remote_dir, partition=args.slurm_partition, account=args.slurm_account,
                       time_limit=args.slurm_time, setup=args.slurm_setup) if args.slurm_host else None
    return SnakemakeOptions(directory=args.directory, configfiles=tuple(args.configfile), config=tuple(args.config),
                            targets=tuple(args.target), profile=args.profile, stub_files=args.stub_files,
                            default_image=args.default_image or DEFAULT_IMAGE, timeout=args.parse_timeout,
                            strategy=args.strategy, storage=args.storage, slurm=slurm)


def _add_wrapper_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--airflow-image", metavar="IMAGE",
                        help="image of the airflow-task wrapper for every DAG file (default: chosen per file from "
                             "its Airflow major: apache/airflow:3.3.2 or apache/airflow:2.10.5)")


def _wrapper_options(args: argparse.Namespace) -> WrapperOptions:
    from backends.wrappers import WrapperOptions

    return WrapperOptions(airflow_image_override=args.airflow_image)


def _templates(args: argparse.Namespace) -> int:
    from backends.wrappers.reference import reference_markdown, write_catalogue
    from migrator.writer import WriteError

    options = _wrapper_options(args)
    if args.doc:
        sys.stdout.write(reference_markdown(options))
        return EXIT_OK
    if not args.output:
        print("argo-migrate: error: templates needs -o DIR (or --doc)", file=sys.stderr)
        return EXIT_USAGE
    try:
        written = write_catalogue(options, Path(args.output))
    except WriteError as exc:
        print(f"argo-migrate: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    for path in written:
        print(path)
    return EXIT_OK


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
    run.add_argument("--image", action="append", metavar="IMAGE=PREFIX",
                     help="run steps of IMAGE with PREFIX/bin first on PATH (a virtualenv or an install prefix whose "
                          "packages match the image's), e.g. apache/airflow:3.3.2=.venv-airflow3")
    run.add_argument("--secret", action="append", metavar="NAME=DIR",
                     help="the Secret NAME is the folder DIR, one file per key (env secretKeyRef, envFrom, volumes)")
    run.add_argument("--config-map", action="append", metavar="NAME=DIR",
                     help="the ConfigMap NAME is the folder DIR, one file per key")
    run.add_argument("--templates", action="append", metavar="PATH",
                     help="WorkflowTemplates that templateRefs may name (files or folders, e.g. the output of "
                          "`argo-migrate templates`); those in FILE itself are always used")
    run.add_argument("--inputs", metavar="DIR", default=".",
                     help="where input artifacts' S3 keys the run has not stored are read from, as from the bucket "
                          "(a migrated workflow's raw inputs, keyed by their path; default: the current folder)")
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

    try:
        pods = _pod_options(args)
    except ValueError as exc:
        print(f"argo-migrate: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from migrator.pods import is_quantity

    if not is_quantity(args.storage_size):
        print(f"argo-migrate: error: --storage-size: {args.storage_size!r} is not a Kubernetes quantity",
              file=sys.stderr)
        return EXIT_USAGE
    storage = (args.storage, args.storage_class, args.storage_size, args.storage_access_mode)
    wrappers = _wrapper_options(args) if getattr(args, "airflow_image", None) else None
    frontend = _snakemake_options(args) if args.language == "snakemake" else None
    options = PipelineOptions(kind=args.kind, strategy=args.strategy, on_file=on_file, pods=pods, storage=storage,
                              wrappers=wrappers, frontend=frontend)
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


def _pod_options(args: argparse.Namespace) -> PodOptions | None:
    """--default-resources, --queue and --gpu-toleration, checked as Kubernetes would (ValueError: a usage error)."""
    from migrator.pods import PodOptions, is_dns_label, is_qualified_name, parse_default_resources

    if args.default_resources is None and args.queue is None and args.gpu_toleration is None:
        return None
    defaults = None
    if args.default_resources is not None:
        try:
            defaults = parse_default_resources(args.default_resources)
        except ValueError as exc:
            raise ValueError(f"--default-resources: {exc}") from None
    if args.queue is not None and not is_dns_label(args.queue):
        raise ValueError(f"--queue: {args.queue!r} is not a DNS-1123 label (at most 63 characters: lower-case "
                         "letters, digits and '-', starting and ending with a letter or digit)")
    key = args.gpu_toleration
    if key is not None:
        if os.path.exists(key):
            # `--gpu-toleration dags/` takes the path as KEY: argparse cannot tell them apart.
            raise ValueError(f"--gpu-toleration: {key!r} is a path; write --gpu-toleration=KEY, or put the option "
                             "after the paths")
        if not is_qualified_name(key):
            raise ValueError(f"--gpu-toleration: {key!r} is not a Kubernetes taint key ([prefix/]name)")
    return PodOptions(default_resources=defaults, queue=args.queue, gpu_toleration=key)


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
    if args.command == "templates":
        return _templates(args)
    try:
        return _migrate(args)
    except KeyboardInterrupt:
        # Files already written are whole (atomic writes); the report of an interrupted batch is not written.
        print("argo-migrate: interrupted; the manifests written so far are complete, the report was not written",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
