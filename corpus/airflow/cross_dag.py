# constructs: trigger-dag-run, external-task-sensor, external-task-marker
"""Links between DAGs: trigger another DAG's workflow and wait for it, wait for another DAG, mark for clearing."""

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.providers.standard.sensors.external_task import ExternalTaskMarker, ExternalTaskSensor
from airflow.sdk import DAG

with DAG(dag_id="orchestrator", schedule="@hourly"):
    upstream_done = ExternalTaskSensor(task_id="wait_for_ingest", external_dag_id="ingest",
                                       external_task_id="load", poke_interval=120, timeout=7200)
    trigger = TriggerDagRunOperator(task_id="run_reporting", trigger_dag_id="reporting",
                                    conf={"source": "orchestrator", "full": True}, wait_for_completion=True)
    marker = ExternalTaskMarker(task_id="mark_reporting", external_dag_id="reporting", external_task_id="start")
    upstream_done >> trigger >> marker
