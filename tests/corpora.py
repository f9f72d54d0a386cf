"""Real inputs fetched by package name into ``.cache/corpora`` (helpers, not tests; see ../shared/CORPORA.md).

Downloads happen once; without network the first use fails loudly, because a skipped corpus test is a green run
that checked nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "corpora"
WHEELS = CACHE / "wheels"

AIRFLOW3_PACKAGES = {"apache-airflow-core": "3.3.2", "apache-airflow-providers-standard": "1.21.0"}
AIRFLOW2_PACKAGES = {"apache-airflow": "2.10.5"}
# Top-level example folders only: sub-folders hold plugins, SQL and helper modules, not DAG files.
AIRFLOW3_FOLDERS = ("airflow/example_dags", "airflow/providers/standard/example_dags")
AIRFLOW2_FOLDERS = ("airflow/example_dags",)
AIRFLOW3_COUNT = 67
AIRFLOW2_COUNT = 52


def _wheel(name: str, version: str) -> Path | None:
    # Wheel file names normalise the project name to underscores (PEP 427).
    stem = re.sub(r"[-_.]+", "_", name).lower()
    found = sorted(WHEELS.glob(f"{stem}-{version}-*.whl"))
    return found[0] if found else None


def download(packages: dict[str, str]) -> list[Path]:
    """The wheels of ``packages`` (name → exact version), downloaded with pip unless already cached."""
    missing = [f"{name}=={version}" for name, version in packages.items() if _wheel(name, version) is None]
    if missing:
        WHEELS.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
               "--disable-pip-version-check", "-q", "-d", str(WHEELS), *missing]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(
                f"cannot download the corpus wheels {missing} (network needed once; they are cached in {WHEELS}):\n"
                f"{' '.join(cmd)}\n{done.stderr.strip()}"
            )
    wheels = []
    for name, version in packages.items():
        wheel = _wheel(name, version)
        if wheel is None:
            raise RuntimeError(f"pip download succeeded but no wheel of {name}=={version} is in {WHEELS}")
        wheels.append(wheel)
    return wheels


def _members(wheel: Path, folders: tuple[str, ...]) -> list[str]:
    pattern = re.compile("|".join(rf"{re.escape(f)}/[^/]+\.py" for f in folders))
    with zipfile.ZipFile(wheel) as archive:
        return [n for n in archive.namelist() if pattern.fullmatch(n) and not n.endswith("/__init__.py")]


def extract(wheels: list[Path], folders: tuple[str, ...], dest: Path, expected: int) -> Path:
    """Flatten the example DAG files of ``wheels`` into ``dest`` once; check that there are ``expected``."""
    if dest.is_dir() and len(list(dest.glob("*.py"))) == expected:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Extract beside the destination, then rename: an interrupted run never leaves a half corpus that looks whole.
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as archive:
                for member in _members(wheel, folders):
                    target = staging / Path(member).name
                    if target.exists():
                        raise RuntimeError(f"two corpus files are named {target.name} ({wheel.name})")
                    target.write_bytes(archive.read(member))
        count = len(list(staging.glob("*.py")))
        if count != expected:
            raise RuntimeError(f"expected {expected} example DAG files in {[w.name for w in wheels]}, found {count}")
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(staging, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest


def airflow3_examples() -> Path:
    """The 67 Airflow 3 example DAG files (core and the standard provider), flattened into one folder."""
    return extract(download(AIRFLOW3_PACKAGES), AIRFLOW3_FOLDERS, CACHE / "airflow3", AIRFLOW3_COUNT)


def airflow2_examples() -> Path:
    """The 52 Airflow 2.10 example DAG files."""
    return extract(download(AIRFLOW2_PACKAGES), AIRFLOW2_FOLDERS, CACHE / "airflow2", AIRFLOW2_COUNT)


def shared_dir() -> Path:
    """The team's shared folder (specs, CWL conformance suite): ``$ARGO_MIGRATE_SHARED`` or ``<repo>/../shared``."""
    configured = os.environ.get("ARGO_MIGRATE_SHARED")
    path = Path(configured) if configured else REPO.parent / "shared"
    if not path.is_dir():
        hint = "" if configured else " (set ARGO_MIGRATE_SHARED to its location)"
        raise RuntimeError(f"shared folder {path} does not exist{hint}")
    return path


SNAKEMAKE_VERSION = "9.27.1"
# The top-level folders of the sdist's tests/ (Snakemake's own test workflows) when unpacked.
SNAKEMAKE_TEST_FOLDERS = 436


def snakemake_tests() -> Path:
    """The ``tests/`` folder of Snakemake's sdist (its own test workflows, one folder each), downloaded by package
    name and unpacked once into ``.cache/corpora/snakemake-sdist``."""
    root = CACHE / "snakemake-sdist"
    dest = root / f"snakemake-{SNAKEMAKE_VERSION}"
    tests = dest / "tests"
    if tests.is_dir() and sum(1 for p in tests.iterdir() if p.is_dir()) == SNAKEMAKE_TEST_FOLDERS:
        return tests
    archive = root / f"snakemake-{SNAKEMAKE_VERSION}.tar.gz"
    if not archive.exists():
        root.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
               "--disable-pip-version-check", "-q", "-d", str(root), f"snakemake=={SNAKEMAKE_VERSION}"]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0 or not archive.exists():
            raise RuntimeError(f"cannot download the Snakemake sdist (network needed once; cached in {root}):\n"
                               f"{' '.join(cmd)}\n{done.stderr.strip()}")
    # Unpack beside the destination, then rename, as for the Airflow examples.
    staging = Path(tempfile.mkdtemp(prefix=".snakemake-sdist.", dir=root))
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(staging, filter="data")
        unpacked = staging / f"snakemake-{SNAKEMAKE_VERSION}"
        count = sum(1 for p in (unpacked / "tests").iterdir() if p.is_dir())
        if count != SNAKEMAKE_TEST_FOLDERS:
            raise RuntimeError(f"expected {SNAKEMAKE_TEST_FOLDERS} test folders in {archive.name}, found {count}")
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(unpacked, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return tests
