"""Steps whose Python is written by argo-migrate rather than taken from the DAG file (time checks, polling).

Each returns a :class:`~migrator.ir.PythonCall` whose function reads the run's logical date from the environment
variable ``AM_LOGICAL_DATE`` when it needs it.
"""

from __future__ import annotations

from frontends.airflow import harness
from migrator.ir import PythonCall, RunMeta, Text

LOGICAL_DATE_ENV: tuple[str, Text] = ("AM_LOGICAL_DATE", (RunMeta("logical_date"),))

CLOCK = '''\
def _am_now(use_logical_date):
    import datetime
    import os

    if use_logical_date:
        return datetime.datetime.fromisoformat(os.environ["AM_LOGICAL_DATE"].replace("Z", "+00:00"))
    return datetime.datetime.now(datetime.timezone.utc)
'''


def generated(name: str, body: str, result: str = "return", targets: tuple[tuple[str, str], ...] = (),
              poll: tuple[int, int] | None = None, clock: bool = True, soft_fail: bool = False) -> PythonCall:
    source = f"def {name}():\n" + "".join(f"    {line}\n" if line else "\n" for line in body.splitlines())
    return PythonCall(
        function=name, source=source, preamble=CLOCK if clock else "", env=(LOGICAL_DATE_ENV,) if clock else (),
        driver=harness.driver(poll, soft_fail), writers=harness.writers(result, targets, soft_fail),
        epilogue=harness.epilogue(result),
    )
