"""End-to-end CLI throughput on the Airflow 3 example corpus (67 files), as a user runs it: a fresh process each time.

Usage: python benchmarks/bench_cli.py [-n RUNS]

Reports the median wall time, files/s, ms per file and the child's peak RSS, and, for scale, what importing
``hera.workflows`` alone costs (start-up is a large share of a small batch).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests/ is a package of the repository, not an installed one

from tests.corpora import airflow3_examples  # noqa: E402  (needs the sys.path entry above)


def cli_command() -> list[str]:
    # The installed console script when there is one (that is what users run), else the module.
    script = Path(sys.executable).with_name("argo-migrate")
    return [str(script)] if script.exists() else [sys.executable, "-m", "migrator.cli"]


def timed_run(cmd: list[str]) -> tuple[float, int, int]:
    """Wall seconds, exit status and peak RSS in KiB of one child process."""
    start = time.perf_counter()
    child = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # wait4 gives this child's own rusage; RUSAGE_CHILDREN would be the maximum over every child so far.
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    rss_kib = usage.ru_maxrss if sys.platform != "darwin" else usage.ru_maxrss // 1024  # macOS counts bytes
    return wall, child.returncode, rss_kib


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=3, help="repetitions (default: %(default)s)")
    args = parser.parse_args(argv)

    corpus = airflow3_examples()
    files = len(list(corpus.glob("*.py")))
    walls, rss, statuses = [], [], set()
    with tempfile.TemporaryDirectory(prefix="argo-migrate-bench-") as tmp:
        for i in range(args.runs):
            out = Path(tmp) / f"run-{i}"  # a fresh folder each run: no run is helped by the previous one's files
            wall, status, peak = timed_run([*cli_command(), "airflow", str(corpus), "-o", str(out), "--quiet"])
            walls.append(wall)
            rss.append(peak)
            statuses.add(status)
    if statuses - {0, 1}:  # 1 only means some input had an error diagnostic; 2 or a crash means no benchmark
        print(f"argo-migrate exited with {sorted(statuses)}; run it by hand to see why", file=sys.stderr)
        return 1

    imports = []
    probe = "import time; t = time.perf_counter(); import hera.workflows; print(time.perf_counter() - t)"
    for _ in range(args.runs):
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
        imports.append(float(done.stdout))

    wall = statistics.median(walls)
    print(f"corpus:               {files} files ({corpus})")
    print(f"runs:                 {args.runs} (exit status {', '.join(map(str, sorted(statuses)))})")
    print(f"wall (median):        {wall:.3f} s")
    print(f"files/s:              {files / wall:.1f}")
    print(f"ms per file:          {1000 * wall / files:.1f}")
    print(f"peak RSS (child):     {max(rss) / 1024:.1f} MiB")
    print(f"import hera.workflows alone (median): {statistics.median(imports):.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
