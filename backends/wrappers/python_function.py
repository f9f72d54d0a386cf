"""The python-function wrapper: one function of a self-contained Python script, run by uv in a pod.

The script carries its own requirements as PEP 723 inline metadata (``# /// script`` with ``dependencies`` and
``requires-python``), so no image has to be built for it: ``uv run --script`` installs them in the pod. The
in-pod program (``programs/python_function.py``) calls the named function with the JSON keyword arguments and
writes its return value to the ``result`` output parameter; the step's exit status is the script's (an
exception fails it), and an exit status named by ``skip-on-exit-code`` makes the step succeed with ``skipped``
= ``"true"`` (Airflow's ``skip_on_exit_code``).

Parameters reach the program as environment variables, never as text spliced into the script, so any source or
argument is passed unchanged.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from backends.wrappers import WrapperOptions
from backends.wrappers.catalogue import (
    Output,
    Param,
    WrapperDoc,
    base_template,
    inputs_of,
    param_env,
    program,
    template_name,
)

ENGINE = "python-function"
RESULT_PATH = "/tmp/argo-migrate/result"
SKIPPED_PATH = "/tmp/argo-migrate/skipped"

DOC = WrapperDoc(
    engine=ENGINE,
    summary="Call one function of a self-contained Python script (PEP 723 inline metadata: `# /// script` "
            "with its dependencies) with `uv run --script` in a pod; the function's return value is the "
            "`result` parameter, an exception fails the step.",
    parameters=(
        Param("source", "the script: PEP 723 metadata, then the function's module code"),
        Param("function", "the function to call", "main"),
        Param("kwargs", "its keyword arguments, a JSON object", "{}"),
        Param("skip-on-exit-code", "an exit status of the script that means skipped (the step succeeds with "
              "skipped = true); empty: none", ""),
        Param("image", "an image with uv and a Python the script's requires-python accepts",
              WrapperOptions().uv_image),
    ),
    outputs=(
        Output("result", "parameter", "the return value: a string as it is, anything else as JSON"),
        Output("skipped", "parameter",
               "\"true\" when the script exited with `skip-on-exit-code`, else \"false\""),
    ),
    stop="Argo's executor sends SIGTERM to the step's process group (the program, uv and the script), and "
         "the program passes it on to uv as well; the script ends (Python's default for SIGTERM, or its own "
         "handler); past the pod's grace period the kubelet kills what is left.",
    local="tests/test_wrapper_python_function.py runs the template through `run --local` with a real uv "
          "(pip, cached virtualenv standing for the uv image with `--image`), installing a dependency from "
          "PyPI: success, an exception, a skip, and SIGTERM mid-run.",
)


def workflow_template(options: WrapperOptions) -> dict[str, Any]:
    doc = replace(DOC, parameters=tuple(replace(p, default=options.uv_image) if p.name == "image" else p
                                        for p in DOC.parameters))
    main = {
        "name": "main",
        "inputs": inputs_of(doc),
        "script": {
            "image": "{{inputs.parameters.image}}",
            "command": ["python"],
            "source": program("python_function.py"),
            # A writable folder for whatever the function writes by relative path (an image's default is /).
            "workingDir": "/tmp/argo-migrate",
            "env": [param_env("ARGO_MIGRATE_SOURCE", "source"), param_env("ARGO_MIGRATE_FUNCTION", "function"),
                    param_env("ARGO_MIGRATE_KWARGS", "kwargs"),
                    param_env("ARGO_MIGRATE_SKIP_EXIT_CODE", "skip-on-exit-code")],
        },
        "outputs": {"parameters": [{"name": "result", "valueFrom": {"path": RESULT_PATH}},
                                   {"name": "skipped", "valueFrom": {"path": SKIPPED_PATH}}]},
    }
    return base_template(template_name(ENGINE), doc, [main])
