"""Cached virtualenvs of the engines that the wrapper tests run in place of a pod's image: Snakemake, cwltool,
uv, and PySpark (whose ``spark-submit`` runs a SparkApplication's driver in local mode).

Each lives in ``<repo>/.cache/engines/<name>/venv`` and is built exactly as the Airflow oracles are (one ``pip
install`` of pinned versions, a marker written only after it succeeded, a file lock against two builders):
:func:`tests.oracles.airflow_env.ensure` does the work; only the folder differs. A venv stands for an image
with the runner's ``--image IMAGE=PREFIX``, so a step sees the engine's ``bin/`` first on its PATH.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from tests.oracles.airflow_env import REPO, OracleEnv, ensure

ROOT = REPO / ".cache" / "engines"


@dataclass(frozen=True)
class EngineEnv(OracleEnv):
    @property
    def home(self) -> Path:
        return ROOT / self.name


SNAKEMAKE = EngineEnv("snakemake", ("snakemake==9.27.1",))
CWLTOOL = EngineEnv("cwltool", ("cwltool==3.3.20260925135507",))
UV = EngineEnv("uv", ("uv==0.13.8",))
# The Spark driver of the spark-application tests: spark-submit in local mode (Java 17 is on the machine).
PYSPARK = EngineEnv("pyspark", ("pyspark==4.3.0",))

ENVS = {env.name: env for env in (SNAKEMAKE, CWLTOOL, UV, PYSPARK)}


def prefix(env: EngineEnv) -> Path:
    """The venv folder (what ``--image IMAGE=PREFIX`` takes), built on first use."""
    ensure(env)
    return env.venv


def image(env: EngineEnv, commands: tuple[str, ...], variables: dict[str, str]) -> Path:
    """A folder standing for an image whose ``ENV`` sets ``variables``, for ``--image IMAGE=FOLDER``: ``bin/``
    holds one shim per command that exports them and execs the venv's program (the runner gives a step only
    ``PATH``,
    ``HOME``, ``LANG`` and the template's ``env``, as a pod has only the image's and the template's)."""
    ensure(env)
    folder = env.home / "image"
    (folder / "bin").mkdir(parents=True, exist_ok=True)
    exports = "".join(f"export {name}={shlex.quote(value)}\n" for name, value in sorted(variables.items()))
    for command in commands:
        shim = folder / "bin" / command
        tmp = shim.with_name(f".{command}.{os.getpid()}")
        tmp.write_text(f"#!/bin/sh\n{exports}exec {shlex.quote(str(env.venv / 'bin' / command))} \"$@\"\n")
        tmp.chmod(0o755)
        os.replace(tmp, shim)
    return folder


def uv_image() -> Path:
    """The uv image: uv and Python from the cached venv, uv's cache under ``.cache/engines/uv/cache``, and no
    Python downloads (only the package index is reachable; the venv's Python serves the scripts)."""
    variables = {"UV_CACHE_DIR": str(UV.home / "cache"), "UV_PYTHON_DOWNLOADS": "never",
                 "UV_PYTHON": str(UV.python)}
    # The certificates this machine trusts for the package index (pip is told the same in its own settings).
    variables.update({k: os.environ[k] for k in ("SSL_CERT_FILE", "SSL_CERT_DIR") if os.environ.get(k)})
    return image(UV, ("uv", "python", "python3"), variables)


# ------------------------------------------------------------------ running a template with `run --local`

T = TypeVar("T")
RUNNER = [sys.executable, "-m", "migrator.cli", "run", "--local"]
RUNNER_ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def run_local(manifest: Path, workdir: Path, *options: str,
              timeout: float = 300) -> tuple[int, dict[str, Any]]:
    """``argo-migrate run --local`` to the end: its exit status and its report."""
    done = subprocess.run([*RUNNER, str(manifest), "--workdir", str(workdir), *options], capture_output=True,
                          text=True, timeout=timeout, env=RUNNER_ENV, cwd=REPO)
    report = workdir / "run.json"
    assert report.exists(), f"no report (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.returncode, json.loads(report.read_text())


def stop_local(manifest: Path, workdir: Path, *options: str, started: Callable[[], bool],
               timeout: float = 120) -> tuple[int, str]:
    """``run --local`` until ``started()`` holds, then SIGTERM to the runner (as ``argo stop`` signals the
    pods):
    its exit status and stderr once it has stopped its steps."""
    proc = subprocess.Popen([*RUNNER, str(manifest), "--workdir", str(workdir), *options],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=RUNNER_ENV,
                            cwd=REPO)
    try:
        wait_for(lambda: started() or proc.poll() is not None, timeout, "the step to start")
        assert proc.poll() is None, f"the run ended before it was stopped:\n{proc.communicate()[1]}"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, err


def wait_for(predicate: Callable[[], T], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        time.sleep(0.1)


def processes_in(folder: Path) -> dict[int, str]:
    """Processes working in ``folder`` or below (their cwd), pid → command line: what a stopped run must not
    leave behind."""
    root = folder.resolve()
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = Path(os.readlink(entry / "cwd"))
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if cwd == root or cwd.is_relative_to(root):
            found[int(entry.name)] = cmdline
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie has ended; only its parent has not read its status yet


if __name__ == "__main__":
    # python -m tests.engines.tools [name...]: build (or check) the environments, printing the time taken.
    for name in sys.argv[1:] or list(ENVS):
        begin = time.monotonic()
        print(name, prefix(ENVS[name]), f"{time.monotonic() - begin:.1f} s", flush=True)
