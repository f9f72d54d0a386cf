# constructs: default-args-retries, retry-delay, exponential-backoff, execution-timeout, dagrun-timeout, cron-schedule
"""Retries from default_args merged with per-task overrides; timeouts for tasks and the whole run."""

from datetime import datetime, timedelta

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

default_args = {"retries": 3, "retry_delay": timedelta(seconds=30)}

with DAG(
    dag_id="flaky_downloads",
    default_args=default_args,
    schedule="*/15 * * * *",
    start_date=datetime(2024, 1, 1),
    dagrun_timeout=timedelta(hours=1),
    catchup=False,
) as dag:
    download = BashOperator(
        task_id="download",
        bash_command="echo download",
        retry_exponential_backoff=True,
        max_retry_delay=timedelta(minutes=10),
        execution_timeout=timedelta(minutes=5),
    )
    verify = BashOperator(task_id="verify", bash_command="echo verify", retries=0)
    download >> verify
