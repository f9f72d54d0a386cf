"""Run Airflow's own ``dag.test()`` on one DAG and print every task instance's final state as JSON (last line).

Run by tests/oracles/dag_test.py inside an oracle virtualenv, with AIRFLOW_HOME a throw-away folder whose SQLite
database is migrated first and the DAG file's folder as the DAGs folder. Usage: python run_dag_test.py FILE DAG_ID
"""

from __future__ import annotations

import json
import sys


def _dag(path: str, dag_id: str):  # type: ignore[no-untyped-def]
    try:  # Airflow 3: what `airflow dags test` does (the DAG is serialised to the database first)
        from airflow.utils.cli import get_bagged_dag

        return get_bagged_dag(None, dag_id, dagfile_path=path)
    except ImportError:
        from airflow.models.dagbag import DagBag

        return DagBag(dag_folder=path, include_examples=False).get_dag(dag_id)


def main() -> None:
    path, dag_id = sys.argv[1], sys.argv[2]
    run = _dag(path, dag_id).test()
    states: dict[str, str] = {}
    for ti in run.get_task_instances():
        key = ti.task_id if ti.map_index is None or ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
        states[key] = str(getattr(ti.state, "value", ti.state))
    print(json.dumps({"run_state": str(getattr(run.state, "value", run.state)), "tasks": states}))


if __name__ == "__main__":
    main()
