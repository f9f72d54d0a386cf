"""Per-task Airflow wrapper: the original operator runs under ``airflow tasks test`` in the Airflow image.

``tasks test`` runs one task in isolation (no scheduler, no dependency checks), which is what an Argo step needs:
Argo owns ordering and retries. It needs a metadata database, so a throw-away SQLite one is initialised first.
The logical date is the workflow's creation time, the closest Argo has to Airflow's run date for a manual run.
"""

from __future__ import annotations

import shlex

from backends.wrappers import ConfigMapMount, WrapperOptions, WrapperSpec
from migrator.ir import Wrapped

DAGS_PATH = "/opt/airflow/dags"


def build(action: Wrapped, options: WrapperOptions) -> WrapperSpec:
    dag_id, task_id, file = action.get("dag_id"), action.get("task_id"), action.get("file")
    script = (
        "set -euo pipefail\n"
        "airflow db migrate >/dev/null\n"
        f"exec airflow tasks test {shlex.quote(dag_id)} {shlex.quote(task_id)} \"$LOGICAL_DATE\"\n"
    )
    return WrapperSpec(
        image=options.airflow_image,
        command=("bash", "-c"),
        args=(script,),
        env=(
            ("AIRFLOW__CORE__DAGS_FOLDER", DAGS_PATH),
            ("AIRFLOW__CORE__LOAD_EXAMPLES", "False"),
            ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "sqlite:////tmp/airflow.db"),
            ("ARGO_MIGRATE_DAG_FILE", file),
            ("LOGICAL_DATE", "{{workflow.creationTimestamp}}"),
        ),
        config_maps=(ConfigMapMount("dags", options.dags_config_map, DAGS_PATH),),
    )
