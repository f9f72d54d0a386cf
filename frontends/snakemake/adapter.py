"""The only module that touches Snakemake's internals: plan a workflow with Snakemake's own code, write the plan as
JSON. An upgrade of Snakemake touches this file alone (pinned and tested: 9.27.1).

It runs in its own process (``python -m frontends.snakemake.adapter REQUEST OUTPUT``), started by
:mod:`frontends.snakemake.planner` with a timeout: parsing a Snakefile runs its Python, which may import anything,
loop forever or leave global state behind (Snakemake keeps some), so it never runs in the CLI's process.

The plan is the concrete job DAG Snakemake builds for the targets and config given (``forceall``: every job),
built in ``ExecMode.SUBPROCESS`` so that raw inputs need not be on this machine (the mode of Snakemake's own
cluster jobs, in which the "does the input exist?" test is skipped), or in the default mode with
``--stub-files``, where empty placeholders of the cluster's files exist while the DAG is built. DAG processors
(wrapper downloads, script checks) are off, and ``cores`` is large so that ``threads`` are never capped.

Everything in the JSON is plain data; :mod:`frontends.snakemake.plan` reads it back into typed values.
"""

from __future__ import annotations

import json
import os
import string
import sys
from pathlib import Path
from typing import Any

FLAGS = ("temp", "protected", "directory", "touch", "pipe", "ancient", "service", "update", "checkpoint_target")
KINDS = ("shell", "run", "script", "notebook", "wrapper", "cwl", "template_engine")


def _plain(x: Any) -> Any:
    if x is None or isinstance(x, bool | int | float):
        return x
    if isinstance(x, str):
        return str(x)
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple | set | frozenset):
        return [_plain(i) for i in x]
    if callable(x):
        return f"<callable:{getattr(x, '__name__', '?')}>"
    return str(x)


def job_key(job: Any) -> str:
    """``rule`` or ``rule[w1=v1,w2=v2]`` (wildcards sorted by name): unique in a DAG, as (rule, wildcards) fixes
    the outputs."""
    wc = job.wildcards_dict
    if not wc:
        return str(job.rule.name)
    return job.rule.name + "[" + ",".join(f"{k}={wc[k]}" for k in sorted(wc)) + "]"


def _fields(template: str) -> list[Any] | None:
    """The raw ``shell:`` text as literal strings and replacement fields (``[field, conversion, spec]``)."""
    parts: list[Any] = []
    try:
        for literal, field, spec, conversion in string.Formatter().parse(template):
            if literal:
                parts.append(literal)
            if field is not None:
                parts.append([field, conversion or "", spec or ""])
    except ValueError:
        return None
    return parts


def _field_text(field: list[str]) -> str:
    name, conversion, spec = field
    return "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"


_SEPARATOR = "\x00"


def _shell_parts(job: Any, parts: list[Any] | None, formatted: str | None) -> list[str] | None:
    """Each replacement field of the rule's shell text as Snakemake formats it for this job; None when the pieces
    do not give back Snakemake's own command (then the whole command is passed as it is)."""
    if parts is None or formatted is None:
        return None
    fields = [_field_text(part) for part in parts if isinstance(part, list)]
    # One call for all the fields, split on a separator no command holds: each call copies the Snakefile's
    # namespace, which at 10,000 jobs costs more than the formatting itself. A value holding the separator gives a
    # wrong count, and any other surprise a rebuilt command unlike Snakemake's: both fall back to the whole command.
    try:
        values = str(job.format_wildcards(_SEPARATOR.join(fields))).split(_SEPARATOR) if fields else []
    except Exception:
        return None
    if len(values) != len(fields):
        return None
    it = iter(values)
    rebuilt = "".join(part if isinstance(part, str) else next(it) for part in parts)
    return values if rebuilt == formatted else None


def _files(files: Any) -> list[dict[str, Any]]:
    out = []
    for f in files:
        flags = sorted(flag for flag in FLAGS if getattr(f, "is_flagged", lambda _f: False)(flag))
        out.append({"path": str(f), "flags": flags})
    return out


def _named(files: Any) -> dict[str, list[int]]:
    """Names of the named entries of a Snakemake file list: name → the indices it covers."""
    out: dict[str, list[int]] = {}
    for name, (start, end) in sorted(getattr(files, "_names", {}).items()):
        stop = start + 1 if end is None else end
        out[str(name)] = list(range(start, stop))
    return out


def _line(wf: Any, rule: Any) -> int:
    snakefile = str(getattr(rule, "snakefile", "") or "")
    linemap = wf.linemaps.get(snakefile, {})
    return int(linemap.get(rule.lineno, rule.lineno) or 0)


# What follows the explanation in Snakemake's message: sections listing wildcards and files, and a traceback.
_DETAILS = frozenset({"Wildcards:", "Traceback:", "Expected input files:", "Expected output files:"})


class _Refused(Exception):
    """Snakemake's error, described while the workflow's line maps were at hand."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error["message"])
        self.error = error


def _origin(exc: BaseException, linemaps: dict[Any, Any]) -> tuple[str | None, int, str | None]:
    """Where Snakemake blames the error (file, line in that file, rule), chosen as Snakemake's own report chooses
    it (``snakemake.exceptions.format_exception_to_string``): the syntax error's position; else the innermost
    frame of the traceback in a Snakefile; else the rule's or the workflow error's position. Compiled lines are
    mapped back to the Snakefile's with the line maps."""
    from snakemake.exceptions import RuleException, WorkflowError, get_exception_origin

    def mapped(file: Any, line: Any) -> tuple[str | None, int]:
        if not file:
            return None, 0
        table = linemaps.get(file) or {}
        return str(file), int(table.get(line, line) or 0)

    if isinstance(exc, SyntaxError):
        return (*mapped(exc.filename, exc.lineno), None)
    found = get_exception_origin(exc, linemaps) if linemaps else None
    if found is not None:
        lineno, file = found
        return (*mapped(file, lineno), None)
    if isinstance(exc, RuleException):
        rule = getattr(exc, "rule", None)
        return (*mapped(getattr(exc, "filename", None), getattr(exc, "lineno", None)), str(rule) if rule else None)
    if isinstance(exc, WorkflowError):
        rule = getattr(exc, "rule", None)
        return (*mapped(getattr(exc, "snakefile", None), getattr(exc, "lineno", None)), str(rule) if rule else None)
    return None, 0, None


def _error(exc: BaseException, linemaps: dict[Any, Any]) -> dict[str, Any]:
    """Snakemake's own message and where it points (file:line), as plain data: the exception's class (and rule), its
    explanation made one line, without the detail sections Snakemake appends (wildcards, file lists)."""
    path, line, rule = _origin(exc, linemaps)
    text = f"{exc.msg.split('(')[0]}: {(exc.text or '').strip()}" if isinstance(exc, SyntaxError) and exc.msg \
        else str(exc)
    body: list[str] = []
    for raw in text.splitlines():
        if raw.strip() in _DETAILS:
            break
        if raw.strip():
            body.append(" ".join(raw.split()))
    title = type(exc).__name__ + (f" in rule {rule}" if rule else "")
    message = f"{title}: {' '.join(body)}" if body else title
    return {"type": type(exc).__name__, "message": message, "path": path, "line": line}


def plan(request: dict[str, Any]) -> dict[str, Any]:
    from snakemake.api import SnakemakeApi
    from snakemake.io import apply_wildcards
    from snakemake.settings.types import (
        ConfigSettings,
        DAGSettings,
        ExecutionSettings,
        OutputSettings,
        Quietness,
        RemoteExecutionSettings,
        ResourceSettings,
        SchedulingSettings,
        WorkflowSettings,
    )
    from snakemake.shell import shell
    from snakemake_interface_executor_plugins.settings import ExecMode

    snakefile = Path(request["snakefile"]).resolve()
    workdir = Path(request.get("workdir") or snakefile.parent).resolve()
    stub = [str(p) for p in request.get("stub_files", [])]
    mode = ExecMode.DEFAULT if stub or request.get("files_decide") else ExecMode.SUBPROCESS
    created: list[Path] = []
    folders: list[Path] = []
    for rel in stub:  # placeholders of the cluster's files, removed again below (with the folders made for them)
        p = workdir / rel
        if not p.exists() and not p.is_symlink():
            folders.extend(d for d in reversed(p.parents) if not d.exists())
            p.parent.mkdir(parents=True, exist_ok=True)
            p.touch()
            created.append(p)
    globbed = _record_globs()
    api = None
    try:
        with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
            wapi = api.workflow(
                resource_settings=ResourceSettings(cores=int(request.get("cores", 1024)),
                                                   overwrite_threads=request.get("threads", {}),
                                                   overwrite_resources=request.get("resources", {}),
                                                   default_resources=request.get("default_resources") or None),
                config_settings=ConfigSettings(config=dict(request.get("config", {})),
                                               configfiles=[Path(c).resolve() for c in request.get("configfiles", [])]),
                workflow_settings=WorkflowSettings(exec_mode=mode),
                snakefile=snakefile, workdir=workdir)
            wf = wapi._workflow
            # Normally set by DAGApi.execute_workflow; the DAG's postprocessing reads them.
            wf.execution_settings = ExecutionSettings()
            wf.remote_execution_settings = RemoteExecutionSettings()
            wf.scheduling_settings = SchedulingSettings()
            wapi.dag(DAGSettings(targets=frozenset(request.get("targets", [])), forceall=True))
            wf._prepare_dag(forceall=True, ignore_incomplete=True, lock_warn_only=True, nolock=True)
            wf._build_dag()
            dag = wf.dag
            dag.dag_processors = []
            wf.async_run(dag.postprocess(update_needrun=False))
            described = _describe(wf, dag, snakefile, workdir, shell, apply_wildcards)
            described["globbed"] = globbed
            described["files_decided"] = mode == ExecMode.DEFAULT and not stub
            return described
    except Exception as exc:
        # As `snakemake` reports it (SnakemakeApi.print_exception): with the line maps of the files it compiled.
        wapi = getattr(api, "_workflow_api", None)
        linemaps = getattr(getattr(wapi, "_workflow_store", None), "linemaps", None) or {}
        raise _Refused(_error(exc, linemaps)) from exc
    finally:
        for p in created:
            p.unlink(missing_ok=True)
        for d in reversed(folders):
            try:
                d.rmdir()
            except OSError:
                pass


def _record_globs() -> list[dict[str, Any]]:
    """Every ``glob_wildcards`` call of the Snakefile, with how many files it matched: a workflow that discovers its
    samples from files sees nothing when the data lives on the cluster, and must say so. The Snakefile's namespace
    takes the name from ``snakemake.workflow``; an explicit import takes it from ``snakemake.io``."""
    import snakemake.io
    import snakemake.workflow

    original = snakemake.io.glob_wildcards
    calls: list[dict[str, Any]] = []

    def recording(pattern: Any, *args: Any, **kwargs: Any) -> Any:
        found = original(pattern, *args, **kwargs)
        calls.append({"pattern": str(pattern), "matches": len(found[0]) if len(found) else 0})
        return found

    snakemake.io.glob_wildcards = recording  # type: ignore[assignment]
    snakemake.workflow.glob_wildcards = recording  # type: ignore[attr-defined]
    return calls


def _describe(wf: Any, dag: Any, snakefile: Path, workdir: Path, shell: Any, apply_wildcards: Any) -> dict[str, Any]:
    jobs = sorted(dag.jobs, key=dag.jobid)
    keys = {j: job_key(j) for j in jobs}
    rules: dict[str, dict[str, Any]] = {}
    shell_fields: dict[str, list[Any] | None] = {}
    out_jobs = []
    for j in jobs:
        r = j.rule
        if r.name not in rules:
            parts = _fields(r.shellcmd) if r.shellcmd else None
            shell_fields[r.name] = parts
            rules[r.name] = {
                "name": r.name,
                "path": str(getattr(r, "snakefile", "") or snakefile),
                "line": _line(wf, r),
                "kind": next((k for k in KINDS if getattr(r, f"is_{k}", False)), "none"),
                "shell_parts": parts,
                "checkpoint": bool(r.is_checkpoint),
                "local": r.name in wf._localrules or bool(getattr(r, "is_local", False) is True),
                "shadow": r.shadow_depth,
                "conda": r.conda_env is not None,
                "envmodules": list(r.env_modules.names if r.env_modules else []),
                "docstring": getattr(r, "docstring", None),
                "script": str(getattr(r, "script", "") or "") or None,
                "wrapper": str(getattr(r, "wrapper", "") or "") or None,
                "notebook": str(getattr(r, "notebook", "") or "") or None,
            }
        shellcmd = j.shellcmd
        grp = r._group
        if isinstance(grp, str):
            grp = apply_wildcards(grp, j.wildcards_dict)
        try:
            message = j.format_wildcards(r.message) if r.message else None
        except Exception:
            message = r.message
        priority = r.priority if not callable(r.priority) else 0
        out_jobs.append({
            "key": keys[j],
            "jobid": dag.jobid(j),
            "rule": r.name,
            "wildcards": {k: str(v) for k, v in sorted(j.wildcards_dict.items())},
            "input": _files(j.input),
            "input_names": _named(j.input),
            "output": _files(j.output),
            "output_names": _named(j.output),
            "log": [str(f) for f in j.log],
            "benchmark": str(j.benchmark) if j.benchmark else None,
            "shell": shellcmd,
            "shell_values": _shell_parts(j, shell_fields[r.name], shellcmd),
            "threads": j.threads,
            "resources": {k: _plain(v) for k, v in j.resources.items() if k not in ("_cores", "_nodes", "tmpdir")},
            "params": {k: _plain(v) for k, v in j.params.items()},
            "container": j.container_img_url,
            "group": _plain(grp),
            "retries": int(r.restart_times or 0),
            "priority": priority,
            "message": message,
        })
    edges = sorted({(keys[dep], keys[j]) for j in jobs for dep in dag.dependencies[j]})
    # The pod's shell is found on its PATH: this machine's absolute path (/usr/bin/bash) may not exist in the image.
    executable = os.path.basename(shell.get_executable() or "bash")
    included = []
    for s in getattr(wf, "included", []):
        try:
            included.append(str(s.get_path_or_uri(secret_free=True)))
        except Exception:
            continue
    return {
        "snakemake_version": __import__("snakemake").__version__,
        "snakefile": str(snakefile),
        "workdir": str(workdir),
        "targets": sorted(str(t) for t in (wf.dag.targetfiles or [])) or [],
        "default_target": wf.default_target,
        "shell": {"executable": executable, "prefix": shell._get_process_prefix(executable),
                  "suffix": shell._process_suffix or ""},
        "included": included,
        "config_keys": sorted(str(k) for k in wf.config),
        "rules": rules,
        "jobs": out_jobs,
        "edges": [list(e) for e in edges],
    }


def main(argv: list[str]) -> int:
    request_path, output_path = argv[1], argv[2]
    request = json.loads(Path(request_path).read_text())
    # Snakefiles print and run commands at parse time: the plan goes to a file, stdout to stderr.
    sys.stdout.flush()
    os.dup2(2, 1)
    try:
        result: dict[str, Any] = {"plan": plan(request)}
    except _Refused as refused:
        result = {"error": refused.error}
    except BaseException as exc:  # noqa: BLE001 - every failure of the Snakefile is reported, none kills the batch
        result = {"error": _error(exc, {})}
    Path(output_path).write_text(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
