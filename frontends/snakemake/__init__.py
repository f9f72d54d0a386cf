"""Snakemake frontend: a Snakefile → the job DAG Snakemake itself plans (its own parser and planner, run in a child
process with a timeout, see :mod:`frontends.snakemake.planner`) → one IR workflow (:mod:`frontends.snakemake.build`).

``parse`` is the entry point the pipeline calls; what each directive becomes is the table in ``directives.py``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from frontends import FrontendResult
from frontends.snakemake.build import DEFAULT_IMAGE, BuildOptions, build
from frontends.snakemake.planner import (
    DEFAULT_TIMEOUT,
    PlanError,
    PlanRequest,
    parse_config_value,
    plan,
    profile_settings,
)
from frontends.snakemake.slurm import SlurmLogin
from migrator.diagnostics import diag
from migrator.discover import OWN_OUTPUT_MARKER
from migrator.report import REPORT_NAME

__all__ = ["DEFAULT_IMAGE", "SlurmLogin", "SnakemakeOptions", "parse", "runtime_files", "source_root", "workdir_of"]

# Snakemake's own search order when no Snakefile is named (snakemake/api.py, SNAKEFILE_CHOICES).
SNAKEFILES = ("Snakefile", "snakefile", "workflow/Snakefile", "workflow/snakefile")


@dataclass(frozen=True)
class SnakemakeOptions:
    directory: str | None = None
    configfiles: tuple[str, ...] = ()
    config: tuple[str, ...] = ()  # KEY=VALUE, the value read as YAML
    targets: tuple[str, ...] = ()
    profile: str | None = None
    stub_files: str | None = None  # a listing of the cluster's files (one path per line, relative to the workdir)
    default_image: str = DEFAULT_IMAGE
    timeout: float = DEFAULT_TIMEOUT
    strategy: str = "auto"
    storage: str = "volume"
    slurm: SlurmLogin | None = None  # --slurm-host…: whole-workflow cases run in a SLURM job on that cluster


def workdir_of(snakefile: Path, options: SnakemakeOptions) -> Path:
    """Where Snakemake would run: ``--directory``, else the folder holding ``workflow/`` for the standard layout,
    else the Snakefile's folder."""
    if options.directory:
        return Path(options.directory)
    folder = snakefile.parent
    return folder.parent if folder.name == "workflow" else folder


def _listing(path: str) -> tuple[str, ...]:
    try:
        lines = Path(path).read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"--stub-files {path}: {getattr(exc, 'strerror', None) or exc}") from None
    return tuple(line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#"))


def _pairs(value: Any, nested: bool) -> dict[str, Any]:
    """A profile's ``set-threads``/``set-resources``/``default-resources``: a mapping, or a list of ``rule=n`` /
    ``rule:res=v`` / ``res=v`` strings, as Snakemake's command line takes them."""
    if isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for entry in value or []:
        key, _, raw = str(entry).partition("=")
        if nested:
            rule, _, res = key.partition(":")
            out.setdefault(rule, {})[res] = parse_config_value(raw)
        else:
            out[key] = parse_config_value(raw)
    return out


def request_for(snakefile: Path, options: SnakemakeOptions) -> PlanRequest:
    workdir = workdir_of(snakefile, options)
    profile_dir = Path(options.profile) if options.profile else workdir / "workflow" / "profiles" / "default"
    if not profile_dir.exists():
        profile_dir = snakefile.parent / "profiles" / "default"
    profile = profile_settings(profile_dir) if profile_dir.exists() else {}
    config: dict[str, Any] = {}
    profile_config = profile.get("config") or []
    for entry in profile_config if isinstance(profile_config, list) else [f"{k}={v}" for k, v in profile_config.items()]:
        key, _, raw = str(entry).partition("=")
        config[key] = parse_config_value(raw)
    for entry in options.config:
        key, _, raw = entry.partition("=")
        config[key] = parse_config_value(raw)
    configfiles = tuple(str(f) for f in (profile.get("configfile") or profile.get("configfiles") or []))
    threads: dict[str, int] = {}
    for rule, value in _pairs(profile.get("set-threads"), False).items():
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"profile {profile_dir}: set-threads: {rule}: {value!r} is not a number of threads")
        threads[rule] = value
    resources = _pairs(profile.get("set-resources"), True)
    defaults = _pairs(profile.get("default-resources"), False)
    return PlanRequest(
        snakefile=str(snakefile.resolve()), workdir=str(workdir.resolve()),
        configfiles=tuple(str(Path(f).resolve()) for f in (*configfiles, *options.configfiles)),
        config=tuple(sorted(config.items())), targets=options.targets,
        stub_files=_listing(options.stub_files) if options.stub_files else (),
        threads=tuple(sorted(threads.items())),
        resources=tuple(sorted((r, tuple(sorted(v.items()))) for r, v in resources.items())),
        default_resources=tuple(sorted(defaults.items())), timeout=options.timeout)


def parse(path: str, source: bytes, options: SnakemakeOptions | None = None) -> FrontendResult:
    options = options or SnakemakeOptions()
    result = FrontendResult()
    snakefile = Path(path)
    workdir = workdir_of(snakefile, options)
    try:
        request = request_for(snakefile, options)
        planned = plan(request)
    except PlanError as exc:
        where, line = _shown(exc.path, path, snakefile), exc.line or 1
        code = "AM201" if exc.kind == "timeout" else "AM200"
        result.diagnostics.append(diag(code, where, line, 1, f"Snakemake: {_relative(exc.message, path, snakefile)}"))
        return result
    except (OSError, ValueError) as exc:
        result.diagnostics.append(diag("AM200", path, 1, 1, f"cannot plan: {exc}"))
        return result
    rel = os.path.relpath(snakefile.resolve(), workdir.resolve())
    name = workdir.resolve().name or "snakemake"
    workflow, diagnostics = build(planned, BuildOptions(
        default_image=options.default_image, source=path, source_rel=Path(rel).as_posix(), workflow_id=name,
        strategy=options.strategy, targets=options.targets, configfiles=options.configfiles,
        config=tuple((k, v) for k, _, v in (c.partition("=") for c in options.config)), storage=options.storage,
        stubbed=bool(options.stub_files), slurm=options.slurm))
    workflow.diagnostics = (*workflow.diagnostics, *diagnostics)
    result.workflows.append(workflow)
    return result


def _shown(found: str | None, path: str, snakefile: Path) -> str:
    """Snakemake's absolute path of the file at fault, as the user would name it (relative to how they named the
    Snakefile)."""
    if not found or Path(found) == snakefile.resolve():
        return path
    try:
        rel = os.path.relpath(found, snakefile.resolve().parent)
    except ValueError:
        return found
    if rel.startswith(".."):
        return found
    return os.path.join(os.path.dirname(path), rel).replace(os.sep, "/")


def _relative(message: str, path: str, snakefile: Path) -> str:
    """Snakemake's message with the absolute paths it names under the Snakefile's folder as the user named that
    folder: the report holds no path the user did not type (it is diffed between machines)."""
    folder = str(snakefile.resolve().parent)
    if folder == os.path.dirname(folder):  # the file system's root: every path is under it
        return message
    shown = os.path.dirname(path)
    return message.replace(folder + os.sep, f"{shown}/" if shown else "")


# What a wrapped job may read of the workflow's sources: code, environments, configuration and sample sheets, never
# the data (a folder of FASTQ files beside the Snakefile is not shipped in a ConfigMap).
SOURCE_SUFFIXES = frozenset({".smk", ".py", ".r", ".rmd", ".sh", ".ipynb", ".yaml", ".yml", ".json", ".jl", ".rs",
                             ".tsv", ".csv", ".txt", ".cfg", ".toml", ".pl", ".awk", ".sql", ".j2", ".jinja"})
MAX_SHIPPED = 256 * 1024
SKIPPED = frozenset({".snakemake", "results", "resources", "logs", "benchmarks", "data", "__pycache__"})


def source_root(snakefile: Path, root: Path, options: SnakemakeOptions | None) -> Path:
    """What the workflow's files are relative to (the bundle's layout, a wrapped job's ``file``): Snakemake's
    working directory, whichever way the Snakefile was named."""
    return workdir_of(snakefile, options or SnakemakeOptions())


def runtime_files(snakefile: Path, root: Path) -> list[Path]:
    """What a wrapped job needs of the workflow's sources, shipped beside the manifests: the Snakefiles, and files
    with a source suffix up to 256 KiB, outside data folders (``data``, ``results``, ``resources``, ``logs``,
    ``benchmarks``, ``.snakemake``); the frontend does not guess which file a script reads."""
    found: list[Path] = []
    base = root.resolve()
    for folder, dirs, files in os.walk(base):
        if OWN_OUTPUT_MARKER in files or REPORT_NAME in files:
            dirs[:] = []  # a folder argo-migrate wrote (an output folder inside the workflow's): never sources
            continue
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED)
        for name in sorted(files):
            path = Path(folder, name)
            if name.startswith(".") or not path.is_file():
                continue
            if name in ("Snakefile", "snakefile") or (path.suffix.lower() in SOURCE_SUFFIXES
                                                       and path.stat().st_size <= MAX_SHIPPED):
                found.append(path)
    return found
