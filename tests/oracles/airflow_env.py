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
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ROOT = REPO / ".cache" / "oracles"
MARKER = "installed.json"
DUMPS = ROOT / "dagbag"
DUMP_SCRIPT = Path(__file__).with_name("dump_dagbag.py")
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
        """What identifies the environment: what was asked of pip (what it installed is in ``versions``)."""
        return {"requirements": list(self.requirements)}


AIRFLOW3 = OracleEnv(
    "airflow3",
    ("apache-airflow-core==3.3.2", "apache-airflow-providers-standard==1.21.0"),
)

# Airflow 2.10.5 is installed without Airflow's constraints file: pip resolves it to today's releases of its
# dependencies, which installs and imports, but loses DAGs of the corpus; hence these pins:
# - universal-pathlib 0.3 changed how protocols are registered, and Airflow 2.10's ObjectStoragePath then fails
#   on "s3://" at import time (tutorial_objectstorage.py becomes an import error): 0.2.6 is the last 0.2 release.
# - five example files (the branch examples, tutorial_taskflow_api_virtualenv, the virtualenv tasks of the Python
#   examples) define their DAG or tasks only when ``virtualenv`` is importable (``is_venv_installed()``); an
#   Airflow deployment normally has it, and without it those DAGs would be missing from the ground truth.
# - the two Kubernetes executor examples define their DAG only when the ``kubernetes`` client is importable; it is
#   installed too, so that every one of the 52 files yields its DAGs (76 DAGs, 360 tasks, 332 edges, no import
#   error). CORPORA.md's 75/358/331 were counted with kubernetes and virtualenv but universal-pathlib 0.3
#   (tutorial_objectstorage.py an import error). The Airflow 3 environment stays as CORPORA.md specifies it,
#   without the client: its DagBag finds no DAG in those two files there (113 DAGs, 415 tasks, 356 edges).
AIRFLOW2 = OracleEnv(
    "airflow2",
    ("apache-airflow==2.10.5", "universal-pathlib==0.2.6", "virtualenv==20.29.2", "kubernetes==31.0.0"),
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
        pip = [str(env.python), "-m", "pip", "--disable-pip-version-check", "-q"]
        try:
            _run([python3, "-m", "venv", str(env.venv)], f"creating the {env.name} oracle virtualenv", 300)
            # The pip that venv bundles (23.x with Python 3.11) takes twice as long over Airflow's ~150 packages as
            # a current one; --no-compile skips byte-compiling thousands of modules DagBag never imports.
            _run([*pip, "install", "--upgrade", "pip"], "upgrading pip in the oracle virtualenv", 300)
            _run([*pip, "install", "--prefer-binary", "--no-compile", *env.requirements],
                 f"installing {' '.join(env.requirements)} (needs the package index once; cached in {env.venv})",
                 INSTALL_TIMEOUT_S)
        except RuntimeError:
            shutil.rmtree(env.venv, ignore_errors=True)
            raise
        elapsed = time.monotonic() - started
        freeze = subprocess.run([str(env.python), "-m", "pip", "freeze", "--all"], capture_output=True,
                                text=True, check=True).stdout.split()
        version = subprocess.run([str(env.python), "-c", "import sys; print(sys.version.split()[0])"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        record = {"fingerprint": env.fingerprint(), "python": version, "seconds": round(elapsed, 1),
                  "freeze": [f"python=={version}", *freeze]}
        tmp = env.marker.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(record, indent=1) + "\n")
        os.replace(tmp, env.marker)
        return env.python


def versions(env: OracleEnv) -> list[str]:
    """``pip freeze`` of the built environment, as recorded by its marker."""
    return list(json.loads(env.marker.read_text())["freeze"])


def _corpus_key(env: OracleEnv, folder: Path) -> str:
    digest = hashlib.sha256()
    for part in (json.dumps(env.fingerprint(), sort_keys=True), "\n".join(versions(env))):
        digest.update(part.encode() + b"\0")
    digest.update(DUMP_SCRIPT.read_bytes() + b"\0")
    for path in sorted(folder.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def dagbag(env: OracleEnv, folder: Path) -> dict:
    """What Airflow's DagBag makes of the ``*.py`` files of ``folder`` (see ``dump_dagbag.py`` for the shape).

    The answer is cached in ``.cache/oracles/dagbag/`` under a hash of the files, the installed package versions
    and the dump script, so only the first run pays for importing Airflow and the DAG files.
    """
    python = ensure(env)
    cached = DUMPS / f"{env.name}-{_corpus_key(env, folder)}.json"
    if cached.exists():
        return dict(json.loads(cached.read_text()))
    with tempfile.TemporaryDirectory(prefix=f"airflow-home-{env.name}-") as home:
        # Only what Airflow needs: a throw-away home (config, SQLite database, logs) and no example DAGs. The
        # variables of argo-migrate's own environment (PYTHONPATH, VIRTUAL_ENV) must not leak into the oracle.
        child = {k: v for k, v in os.environ.items()
                 if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV") and not k.startswith("AIRFLOW")}
        child.update(AIRFLOW_HOME=home, AIRFLOW__CORE__LOAD_EXAMPLES="False",
                     AIRFLOW__CORE__DAGS_FOLDER=str(folder), PYTHONDONTWRITEBYTECODE="1")
        cmd = [str(python), str(DUMP_SCRIPT), str(folder)]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, env=child, cwd=home, timeout=900)
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"DagBag ({env.name}) did not finish within 900 s on {folder}") from exc
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-40:])
        raise RuntimeError(f"DagBag ({env.name}) failed on {folder} (exit {done.returncode}):\n{tail}")
    # The JSON is the last line: a DAG file that writes to the process's stdout itself cannot corrupt it.
    lines = done.stdout.strip().splitlines()
    result = json.loads(lines[-1]) if lines else None
    if not isinstance(result, dict) or "dags" not in result:
        raise RuntimeError(f"DagBag ({env.name}) printed no result on {folder}:\n{done.stdout[-2000:]}")
    DUMPS.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, cached)
    return dict(result)


if __name__ == "__main__":
    # python -m tests.oracles.airflow_env [name...]: build (or check) the environments, printing the time taken.
    for name in sys.argv[1:] or list(ENVS):
        begin = time.monotonic()
        print(name, ensure(ENVS[name]), f"{time.monotonic() - begin:.1f} s", flush=True)
