# constructs: loop-generated-tasks, f-string-ids, params, jinja-params, with-dag-as
"""Tasks made in a loop with f-string ids, and a DAG param used through Jinja."""

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, Param

REGIONS = ["eu", "us", "apac"]

with DAG(
    dag_id="regional_sync",
    schedule="@weekly",
    params={"bucket": Param("s3://warehouse", description="Target bucket", type="string"), "dry_run": False},
) as dag:
    done = EmptyOperator(task_id="all_regions_done")
    for region in REGIONS:
        sync = BashOperator(
            task_id=f"sync_{region}",
            bash_command="echo syncing " + region + " to {{ params.bucket }}",
            env={"REGION": region.upper()},
        )
        sync >> done
