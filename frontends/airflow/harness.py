"""What happens around an Airflow callable in its pod: Airflow's own semantics of a task's return value, written as
Python for :class:`~migrator.ir.PythonCall` (``driver``, ``writers``, ``epilogue``), so that the backend only calls
the function and runs what it is given.

- ``return``: the value is the XCom ``return_value`` (JSON); with ``multiple_outputs``, each key is one more.
- ``branch``: output ``follow_i`` is "true" when the returned task id (or list of ids) names the i-th downstream
  task or a TaskGroup holding it (Airflow follows the group's tasks), else "false".
- ``short_circuit``: output ``proceed`` is whether the value is truthy.
- ``bash`` (``@task.bash``): the returned string runs with ``bash -c`` and its exit code is the task's.
- ``poll`` (sensors): call until the value (or its ``is_done``) is true, every interval, failing after the timeout;
  with ``soft_fail``, succeed instead and write ``proceed`` as "false".
"""

from __future__ import annotations

from migrator.runtime import keeps_return, python_write


def driver(poll: tuple[int, int] | None, soft_fail: bool) -> str:
    if poll is None:
        return ""
    interval, timeout = poll
    on_timeout = ["        _am_result = None", "        break"] if soft_fail else [
        "        raise SystemExit('argo-migrate: sensor timed out')"]
    return "\n".join([
        "import time as _am_time",
        "",
        f"_am_deadline = _am_time.monotonic() + {timeout}",
        "while True:",
        "    _am_result = {call}",
        "    if getattr(_am_result, 'is_done', _am_result):",
        "        _am_result = getattr(_am_result, 'xcom_value', _am_result)",
        "        break",
        "    if _am_time.monotonic() >= _am_deadline:",
        *on_timeout,
        f"    _am_time.sleep({interval})",
    ])


def writers(result: str, targets: tuple[tuple[str, str], ...], soft_fail: bool,
            keys: tuple[str, ...] = ()) -> tuple[tuple[str, str], ...]:
    """Output name → the code that writes it (run only when the output is declared, i.e. read by some task)."""
    found: list[tuple[str, str]] = []
    if soft_fail:
        found.append(("proceed", python_write("proceed", "'false' if _am_result is None else 'true'")))
    if result == "branch":
        chosen = ("_am_chosen = [] if _am_result is None else "
                  "[_am_result] if isinstance(_am_result, str) else list(_am_result)")
        for task, output in targets:
            follow = f"any({task!r} == c or {task!r}.startswith(str(c) + '.') for c in _am_chosen)"
            found.append((output, chosen + "\n" + python_write(output, f"'true' if {follow} else 'false'")))
    elif result == "short_circuit":
        found.append(("proceed", python_write("proceed", "'true' if _am_result else 'false'")))
    elif result == "return":
        found.append(keeps_return())
        for key in keys:
            found.append((key, "if isinstance(_am_result, dict) and %r in _am_result:\n" % key + "\n".join(
                "    " + line for line in python_write(key, f"_am_json.dumps(_am_result[{key!r}], default=str)").split("\n"))))
    return tuple(found)


def epilogue(result: str) -> str:
    if result != "bash":
        return ""
    return "\n".join([
        "import subprocess as _am_subprocess",
        "import sys as _am_sys",
        "",
        "_am_sys.stdout.flush()",
        "_am_sys.exit(_am_subprocess.run(['bash', '-c', str(_am_result)]).returncode)",
    ])
