"""Run :mod:`frontends.snakemake.adapter` in a child process, with a timeout, and read its plan back.

Parsing a Snakefile runs its Python: it may import modules, read files, loop forever or keep global state. So it
never runs in the CLI's own process: one child per workflow, in its own process group (killed whole on timeout),
and what it prints goes to a log that is dropped.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from frontends.snakemake.plan import Plan, load

DEFAULT_TIMEOUT = 120.0


@dataclass(frozen=True)
class PlanRequest:
    snakefile: str
    workdir: str | None = None
    configfiles: tuple[str, ...] = ()
    config: tuple[tuple[str, Any], ...] = ()
    targets: tuple[str, ...] = ()
    stub_files: tuple[str, ...] = ()
    threads: tuple[tuple[str, int], ...] = ()
    resources: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()
    default_resources: tuple[tuple[str, Any], ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    # Whether the files on this machine decide between rules, as in `snakemake -n` (Snakemake's default mode);
    # otherwise missing inputs are ignored (its subprocess mode). --stub-files implies it.
    files_decide: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"snakefile": self.snakefile, "workdir": self.workdir, "configfiles": list(self.configfiles),
                "config": dict(self.config), "targets": list(self.targets), "stub_files": list(self.stub_files),
                "threads": dict(self.threads), "resources": {r: dict(v) for r, v in self.resources},
                "default_resources": dict(self.default_resources), "files_decide": self.files_decide}


@dataclass
class PlanError(Exception):
    """Snakemake refused the workflow (its own message and position) or the child did not finish."""

    message: str
    path: str | None = None
    line: int = 0
    kind: str = "error"
    details: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


def parse_config_value(text: str) -> Any:
    """``--config key=value``: the value as YAML, the way Snakemake reads it."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def profile_settings(profile: Path) -> dict[str, Any]:
    """What a Snakemake profile (``config.yaml`` in its folder) sets that changes the plan: threads, resources,
    default resources, config files and config values. Other keys (executor, jobs, …) do not change the job DAG."""
    path = profile / "config.yaml" if profile.is_dir() else profile
    try:
        data = yaml.safe_load(path.read_text()) if path.exists() else {}
    except yaml.YAMLError as exc:  # a ValueError, so that the frontend reports it as the profile's fault
        raise ValueError(f"profile {path}: not valid YAML: {' '.join(str(exc).split())}") from None
    return data if isinstance(data, dict) else {}


AMBIGUOUS = "AmbiguousRuleException"


def plan(request: PlanRequest) -> Plan:
    """Snakemake's plan for the request. Planned without looking at input files first (they may be on the cluster);
    where that leaves two rules able to make one file, Snakemake's own choice depends on which inputs exist, so
    the workflow is planned again as ``snakemake -n`` does, with this machine's files deciding (when they are
    here: otherwise the ambiguity is the error)."""
    try:
        return _plan(request)
    except PlanError as exc:
        if exc.kind != AMBIGUOUS or request.files_decide:
            raise
        try:
            return _plan(replace(request, files_decide=True))
        except PlanError:
            raise exc from None


def _plan(request: PlanRequest) -> Plan:
    with tempfile.TemporaryDirectory(prefix="argo-migrate-smk-") as tmp:
        req, out, log = Path(tmp, "request.json"), Path(tmp, "plan.json"), Path(tmp, "child.log")
        req.write_text(json.dumps(request.to_json()))
        env = {k: v for k, v in os.environ.items() if not k.startswith("SNAKEMAKE")}
        # Snakemake writes caches under XDG folders: keep them in the temporary folder.
        env.setdefault("XDG_CACHE_HOME", str(Path(tmp, "cache")))
        workdir = Path(request.workdir or os.path.dirname(os.path.abspath(request.snakefile)))
        # Snakemake keeps its metadata in <workdir>/.snakemake: planning must not leave one in the user's folder
        # (a pre-commit check would dirty the checkout), so a folder that was not there before goes again, here
        # in the parent, which also runs after a timeout killed the child.
        metadata = workdir / ".snakemake"
        made_metadata = not metadata.exists() and not metadata.is_symlink()
        with open(log, "wb") as sink, _removed_after(metadata if made_metadata else None):
            child = subprocess.Popen([sys.executable, "-m", "frontends.snakemake.adapter", str(req), str(out)],
                                     stdin=subprocess.DEVNULL, stdout=sink, stderr=sink, env=env,
                                     cwd=workdir, start_new_session=True)
            try:
                child.wait(timeout=request.timeout)
            except subprocess.TimeoutExpired:
                _kill(child)
                raise PlanError(f"parsing and planning did not finish within {request.timeout:g} s (--parse-timeout; "
                                "a Snakefile that never terminates?); its processes were stopped", request.snakefile,
                                1, "timeout") from None
            finally:
                _kill(child)
        if not out.exists():
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise PlanError(f"the Snakemake planner exited with status {child.returncode} without a plan"
                            + (f": {' '.join(tail)}" if tail else ""), request.snakefile, 1, "crash")
        result = json.loads(out.read_text())
    if "error" in result:
        err = result["error"]
        raise PlanError(err["message"], err.get("path"), int(err.get("line") or 0), err.get("type", "error"), err)
    return load(result["plan"])


@contextlib.contextmanager
def _removed_after(folder: Path | None) -> Iterator[None]:
    try:
        yield
    finally:
        if folder is not None and folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder, ignore_errors=True)


def _kill(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        child.wait()
    else:  # the child is gone; anything it started in its group goes too
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
