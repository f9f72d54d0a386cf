# constructs: with-dag-as, airflow3-imports, bash-operator, rshift-chain, cron-schedule, timezone
"""A nightly report: three shell steps in a row, scheduled by cron in a named time zone."""

import pendulum

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

with DAG(
    dag_id="nightly_report",
    schedule="30 2 * * *",
    start_date=pendulum.datetime(2024, 1, 1, tz="Europe/Berlin"),
    catchup=False,
    description="Extract, build and publish the nightly report",
) as dag:
    extract = BashOperator(task_id="extract", bash_command="echo extracting")
    build = BashOperator(task_id="build_report", bash_command="echo building && sleep 1")
    publish = BashOperator(task_id="publish", bash_command="echo publishing")

    extract >> build >> publish
