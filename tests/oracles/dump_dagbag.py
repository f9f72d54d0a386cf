"""Load a folder of DAG files with Airflow's own DagBag and print what Airflow made of them, as JSON.

Run with an oracle environment's Python (see ``airflow_env.py``), never with argo-migrate's: this script imports
Airflow, which imports and so executes every DAG file. The caller sets ``AIRFLOW_HOME`` to a throw-away folder
and ``AIRFLOW__CORE__LOAD_EXAMPLES=False``; on Airflow 2 the script first creates the metadata database there
(``airflow db migrate``): without it, 3 of Airflow 2.10's example files fail to import (SubDagOperator looks
up its pool, DatasetAlias and others query their tables while the DAG is built).

Usage: ``python dump_dagbag.py FOLDER``. Output: one line of JSON, the last on stdout (what the DAG files print
goes to stderr), shaped so (indented here)::

    {"airflow": "3.3.2",
     "import_errors": {file: message},
     "dags": {dag_id: {"file": basename,
                       "tasks": {task_id: {"upstream": [sorted task ids], "trigger_rule": str,
                                           "retries": int, "mapped": bool, "in_mapped_group": bool}}}}}

File names are base names: the folder is flat.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import subprocess
import sys


def _mapped(task: object) -> bool:
    # MappedOperator is the class of .partial(...).expand(...) tasks on every Airflow version, wherever it lives.
    return any(cls.__name__ == "MappedOperator" for cls in type(task).__mro__)


def _in_mapped_group(task: object) -> bool:
    # A task of a mapped task group (@task_group(...).expand(...)) is a plain operator, but it too runs once per
    # item of the group's expansion.
    group = getattr(task, "task_group", None)
    while group is not None:
        if any(cls.__name__ == "MappedTaskGroup" for cls in type(group).__mro__):
            return True
        group = getattr(group, "parent_group", None)
    return False


def _rule(value: object) -> str:
    return str(getattr(value, "value", value))


def _init_db(major: int) -> None:
    if major >= 3:
        return  # DAG files of Airflow 3 reach no metadata database while they are parsed
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def main(folder: str) -> dict[str, object]:
    import airflow

    major = int(airflow.__version__.split(".")[0])
    _init_db(major)
    try:
        from airflow.dag_processing.dagbag import DagBag  # Airflow 3.1+
    except ImportError:
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]
    kwargs: dict[str, object] = {"dag_folder": folder}
    if "include_examples" in inspect.signature(DagBag.__init__).parameters:
        kwargs["include_examples"] = False
    bag = DagBag(**kwargs)
    dags: dict[str, object] = {}
    for dag_id, dag in sorted(bag.dags.items()):
        tasks = {}
        for task in dag.tasks:
            tasks[task.task_id] = {
                "upstream": sorted(task.upstream_task_ids),
                "trigger_rule": _rule(task.trigger_rule),
                "retries": int(task.retries or 0),
                "mapped": _mapped(task),
                "in_mapped_group": _in_mapped_group(task),
            }
        dags[dag_id] = {"file": os.path.basename(dag.fileloc or ""), "tasks": dict(sorted(tasks.items()))}
    errors = {os.path.basename(path): str(message) for path, message in sorted(bag.import_errors.items())}
    return {"airflow": airflow.__version__, "import_errors": errors, "dags": dags}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: dump_dagbag.py FOLDER")
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", os.path.abspath(sys.argv[1]))
    stdout = sys.stdout
    # DAG files and Airflow may print while they load: keep stdout for the JSON alone.
    with contextlib.redirect_stdout(sys.stderr):
        result = main(os.path.abspath(sys.argv[1]))
    stdout.write("\n" + json.dumps(result, sort_keys=True) + "\n")
