"""Cached virtualenvs holding real Airflow releases, the ground truth the Airflow frontend is compared with.

Each environment lives in ``<repo>/.cache/oracles/<name>/venv`` and is built once with ``python3 -m venv`` and
``pip install`` of exact versions from the package index. A marker file (``installed.json``) is written only after
the install succeeded and records what was installed; a missing or different marker means "build again from
scratch", so a failed or interrupted install never looks done. The install takes a file lock, so two test
processes never build the same environment at once.

Only the tests use these environments, through a subprocess running ``dump_dagbag.py``: argo-migrate itself never
imports Airflow.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ROOT = REPO / ".cache" / "oracles"
MARKER = "installed.json"
# A whole install, resolution included, must finish within this; a hung resolver is a failure, not a wait.
INSTALL_TIMEOUT_S = 1200


@dataclass(frozen=True)
class OracleEnv:
    name: str
    requirements: tuple[str, ...]
    note: str = ""

    @property
    def home(self) -> Path:
        return ROOT / self.name

    @property
    def venv(self) -> Path:
        return self.home / "venv"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def marker(self) -> Path:
        return self.home / MARKER

    def fingerprint(self) -> dict[str, object]:
        """What identifies the environment: the requirements and the interpreter that built it."""
        return {"requirements": list(self.requirements), "python": sys.version.split()[0]}


AIRFLOW3 = OracleEnv(
    "airflow3",
    ("apache-airflow-core==3.3.2", "apache-airflow-providers-standard==1.21.0"),
)

# Airflow 2.10.5 installed without Airflow's constraints file resolves to today's releases of its dependencies.
# The pins below are the few whose newer releases break importing Airflow 2.10 or slow the resolver down; each
# one is the version of Airflow's own constraints-2.10.5 file (constraints-3.11.txt).
AIRFLOW2 = OracleEnv(
    "airflow2",
    ("apache-airflow==2.10.5",),
)

ENVS = {env.name: env for env in (AIRFLOW3, AIRFLOW2)}


def installed(env: OracleEnv) -> bool:
    try:
        recorded = json.loads(env.marker.read_text())
    except (OSError, ValueError):
        return False
    return bool(recorded.get("fingerprint") == env.fingerprint() and env.python.exists())


@contextmanager
def _lock(env: OracleEnv) -> Iterator[None]:
    env.home.mkdir(parents=True, exist_ok=True)
    with open(env.home / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(cmd: list[str], what: str, timeout: float) -> None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"{what} did not finish within {timeout:.0f} s: {' '.join(cmd)}") from exc
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-40:])
        raise RuntimeError(f"{what} failed (exit {done.returncode}): {' '.join(cmd)}\n{tail}")


def ensure(env: OracleEnv) -> Path:
    """The oracle's Python interpreter, building the environment first unless a valid marker says it exists."""
    if installed(env):
        return env.python
    with _lock(env):
        if installed(env):  # another process built it while we waited
            return env.python
        env.marker.unlink(missing_ok=True)
        shutil.rmtree(env.venv, ignore_errors=True)
        started = time.monotonic()
        python3 = shutil.which("python3") or sys.executable
        _run([python3, "-m", "venv", str(env.venv)], f"creating the {env.name} oracle virtualenv", 300)
        pip = [str(env.python), "-m", "pip", "--disable-pip-version-check", "-q"]
        try:
            _run([*pip, "install", "--prefer-binary", "--no-compile", *env.requirements],
                 f"installing {' '.join(env.requirements)} (needs the package index once; cached in {env.venv})",
                 INSTALL_TIMEOUT_S)
        except RuntimeError:
            shutil.rmtree(env.venv, ignore_errors=True)
            raise
        elapsed = time.monotonic() - started
        freeze = subprocess.run([str(env.python), "-m", "pip", "freeze", "--all"], capture_output=True,
                                text=True, check=True).stdout.split()
        record = {"fingerprint": env.fingerprint(), "seconds": round(elapsed, 1), "freeze": freeze}
        tmp = env.marker.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, indent=1) + "\n")
        os.replace(tmp, env.marker)
        return env.python


def versions(env: OracleEnv) -> list[str]:
    """``pip freeze`` of the built environment, as recorded by its marker."""
    return list(json.loads(env.marker.read_text())["freeze"])


if __name__ == "__main__":
    # python -m tests.oracles.airflow_env [name...]: build (or check) the environments, printing the time taken.
    for name in sys.argv[1:] or list(ENVS):
        begin = time.monotonic()
        print(name, ensure(ENVS[name]), f"{time.monotonic() - begin:.1f} s", flush=True)
