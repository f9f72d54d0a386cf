"""Airflow's own ``dag.test()``, the oracle for what a task's run ends in: every task instance's final state.

Each DAG file runs in its own DAGs folder (only that file and the folder's sub-folders of helpers, so that another
example's serialisation error does not stop it), in a throw-away ``AIRFLOW_HOME`` whose SQLite database is migrated
once per run of the tests. A DAG that does not finish within ``TIMEOUT_S`` (a sensor waiting for the world) is
reported as such, never as a state. Answers are cached in ``.cache/oracles/dagtest/`` under a hash of the file, the
environment's package versions and this oracle's scripts.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.oracles.airflow_env import ROOT, OracleEnv, ensure, versions

RUNNER = Path(__file__).with_name("run_dag_test.py")
CACHE = ROOT / "dagtest"
TIMEOUT_S = 180


def _key(env: OracleEnv, file: Path, dag_id: str) -> str:
    digest = hashlib.sha256()
    for part in (env.name, "\n".join(versions(env)), RUNNER.read_text(), Path(__file__).read_text(), dag_id):
        digest.update(part.encode() + b"\0")
    digest.update(file.read_bytes())
    return digest.hexdigest()[:20]


def _child_env(home: Path, dags: Path) -> dict[str, str]:
    child = {k: v for k, v in os.environ.items()
             if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV") and not k.startswith("AIRFLOW")}
    child.update(AIRFLOW_HOME=str(home), AIRFLOW__CORE__LOAD_EXAMPLES="False", AIRFLOW__CORE__DAGS_FOLDER=str(dags),
                 PYTHONDONTWRITEBYTECODE="1", AIRFLOW__CORE__UNIT_TEST_MODE="False")
    return child


_MIGRATED: dict[str, Path] = {}


def _migrated(env: OracleEnv, python: Path) -> Path:
    """An AIRFLOW_HOME whose database is migrated, once per process; each DAG gets a copy of the database."""
    if env.name not in _MIGRATED:
        home = Path(tempfile.mkdtemp(prefix=f"dagtest-db-{env.name}-"))
        empty = home / "dags"
        empty.mkdir()
        airflow = str(Path(python).with_name("airflow"))
        subprocess.run([airflow, "db", "migrate"], env=_child_env(home, empty), cwd=home, capture_output=True,
                       timeout=300, check=True)
        _MIGRATED[env.name] = home
    return _MIGRATED[env.name]


def dag_test(env: OracleEnv, file: Path, dag_id: str) -> dict[str, object]:
    """``{"run_state": …, "tasks": {task_id or task_id[i]: state}}``, or ``{"error": why}``."""
    python = ensure(env)
    cached = CACHE / f"{env.name}-{_key(env, file, dag_id)}.json"
    if cached.exists():
        return dict(json.loads(cached.read_text()))
    with tempfile.TemporaryDirectory(prefix=f"dagtest-{env.name}-") as tmp:
        home, dags = Path(tmp) / "home", Path(tmp) / "dags"
        home.mkdir()
        dags.mkdir()
        shutil.copy2(file, dags / file.name)
        for sub in file.parent.iterdir():  # helper packages (libs/, plugins/) the example imports
            if sub.is_dir() and not sub.name.startswith((".", "__")):
                shutil.copytree(sub, dags / sub.name)
        child = _child_env(home, dags)
        shutil.copy2(_migrated(env, python) / "airflow.db", home / "airflow.db")
        try:
            done = subprocess.run([str(python), str(RUNNER), str(dags / file.name), dag_id], env=child, cwd=tmp,
                                  capture_output=True, text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            answer: dict[str, object] = {"error": f"dag.test() did not finish within {TIMEOUT_S} s"}
        else:
            lines = done.stdout.strip().splitlines()
            try:
                answer = json.loads(lines[-1]) if lines else {}
            except ValueError:
                answer = {}
            if "tasks" not in answer:
                answer = {"error": f"dag.test() exited {done.returncode}: {done.stderr.strip()[-1500:]}"}
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp_file = cached.with_suffix(f".{os.getpid()}.tmp")
    tmp_file.write_text(json.dumps(answer, indent=1, sort_keys=True) + "\n")
    os.replace(tmp_file, cached)
    return answer
