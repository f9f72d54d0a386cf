# constructs: subdag-operator, airflow2-imports
"""An Airflow 2 SubDagOperator: the sub-DAG is built by a function argo-migrate does not run, so it is reported and
the operator runs with Airflow; prefer a TaskGroup."""

from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.operators.subdag import SubDagOperator

from common.subdags import build_section

with DAG(dag_id="legacy_sections", schedule_interval=None, start_date=datetime(2023, 1, 1)) as dag:
    start = EmptyOperator(task_id="start")
    section = SubDagOperator(task_id="section", subdag=build_section("legacy_sections", "section"))
    start >> section
