# constructs: dag-assignment, dag-kwarg, airflow2-imports, dummy-operator, set-upstream, set-downstream, schedule-interval, default-args-retries
"""An Airflow 2 style file: `dag = DAG(...)`, tasks attached with dag=dag, default_args with retries."""

from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.dummy import DummyOperator

default_args = {
    "owner": "data-platform",
    "retries": 2,
    "retry_delay": timedelta(minutes=1),
}

dag = DAG(
    dag_id="legacy_ingest",
    default_args=default_args,
    schedule_interval="0 * * * *",
    start_date=datetime(2023, 6, 1),
    catchup=False,
)

begin = DummyOperator(task_id="begin", dag=dag)
fetch = BashOperator(task_id="fetch", bash_command="echo fetch", dag=dag)
load = BashOperator(task_id="load", bash_command="echo load", retries=5, dag=dag)
end = DummyOperator(task_id="end", dag=dag)

fetch.set_upstream(begin)
fetch.set_downstream(load)
end.set_upstream(load)
