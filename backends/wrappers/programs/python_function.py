"""argo-migrate python-function: call one function of a Python script with uv, in a pod.

Input (environment): ARGO_MIGRATE_SOURCE (the script: PEP 723 inline metadata, ``# /// script``, declares its
dependencies and Python), ARGO_MIGRATE_FUNCTION (the function to call), ARGO_MIGRATE_KWARGS (a JSON object of
keyword arguments), ARGO_MIGRATE_SKIP_EXIT_CODE (an exit status that means "skipped", as Airflow's
``skip_on_exit_code``; empty: none).

The script's metadata block is copied to the top of a small driver that ``uv run --script`` runs, so uv builds
the environment the script asks for; the driver loads the script under a module name other than ``__main__``
(its own ``if __name__ == "__main__"`` block does not run), calls the function and writes the result to
/tmp/argo-migrate/result: a string as it is, anything else as JSON. The exit status is the script's. Argo
signals the step's whole process group; SIGTERM and SIGINT sent to this program alone are passed on to uv, which
passes them to the script.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

RESULT = Path("/tmp/argo-migrate/result")
SKIPPED = Path("/tmp/argo-migrate/skipped")
# The reference regular expression of PEP 723 (packaging.python.org, "Inline script metadata").
BLOCK = re.compile(r"(?m)^# /// (?P<type>[a-zA-Z0-9-]+)$\s(?P<content>(^#(| .*)$\s)+)^# ///$")

DRIVER = '''
import json
import os
import runpy
import sys

namespace = runpy.run_path(os.environ["ARGO_MIGRATE_SCRIPT"], run_name="argo_migrate_function")
name = os.environ["ARGO_MIGRATE_FUNCTION"]
if not callable(namespace.get(name)):
    sys.exit(f"python-function: the script defines no function {name!r}")
result = namespace[name](**json.loads(os.environ["ARGO_MIGRATE_KWARGS"]))
text = result if isinstance(result, str) else json.dumps(result)
with open(os.environ["ARGO_MIGRATE_RESULT"], "w", encoding="utf-8") as out:
    out.write(text)
'''


def main() -> int:
    source = os.environ.get("ARGO_MIGRATE_SOURCE", "")
    kwargs = os.environ.get("ARGO_MIGRATE_KWARGS") or "{}"
    skip_code = os.environ.get("ARGO_MIGRATE_SKIP_EXIT_CODE", "").strip()
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text("")
    SKIPPED.write_text("false")
    try:
        if not isinstance(json.loads(kwargs), dict):
            raise ValueError("not an object")
        int(skip_code or "0")
    except ValueError as exc:
        print(f"python-function: kwargs must be a JSON object and skip-on-exit-code an integer ({exc})",
              file=sys.stderr)
        return 2
    blocks = [m.group(0) for m in BLOCK.finditer(source) if m.group("type") == "script"]
    if len(blocks) > 1:
        print("python-function: the script has more than one '# /// script' block (PEP 723 forbids it)",
              file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="function-", dir=RESULT.parent))
    work.joinpath("function.py").write_text(source, encoding="utf-8")
    work.joinpath("run.py").write_text((blocks[0] + "\n" if blocks else "") + DRIVER, encoding="utf-8")
    env = {**os.environ, "ARGO_MIGRATE_SCRIPT": str(work.joinpath("function.py")),
           "ARGO_MIGRATE_KWARGS": kwargs, "ARGO_MIGRATE_RESULT": str(RESULT),
           "ARGO_MIGRATE_FUNCTION": os.environ.get("ARGO_MIGRATE_FUNCTION") or "main"}
    env.pop("ARGO_MIGRATE_SOURCE", None)
    proc = subprocess.Popen(["uv", "run", "--script", str(work.joinpath("run.py"))], env=env)

    def forward(signum: int, _frame: Any) -> None:
        proc.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    code = proc.wait()
    if code < 0:
        return 128 - code  # killed by a signal: the shell's convention, as a container's exit code shows it
    if skip_code and code == int(skip_code):
        SKIPPED.write_text("true")
        print(f"python-function: exit status {code} means skipped", file=sys.stderr)
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
