# constructs: kubernetes-pod-operator, docker-operator, credentials-to-secret
"""Pods Airflow already describes: KubernetesPodOperator and DockerOperator keep image, command and settings;
a password written in the DAG becomes a Secret reference, never a value in the manifest."""

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.docker.operators.docker import DockerOperator
from airflow.sdk import DAG

with DAG(dag_id="containers", schedule="0 3 * * *"):
    train = KubernetesPodOperator(
        task_id="train",
        image="ghcr.io/example/trainer:1.4",
        cmds=["python", "-m", "trainer"],
        arguments=["--epochs", "5", "--date", "{{ ds }}"],
        env_vars={"MODEL_NAME": "churn", "DB_PASSWORD": "hunter2", "WAREHOUSE_URL": "postgresql://etl:s3cret@db/wh"},
        container_resources={"limits": {"cpu": "2", "memory": "4Gi"}},
        node_selector={"pool": "gpu"},
        tolerations=[{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}],
        image_pull_policy="IfNotPresent",
        name="train-pod",
        get_logs=True,
    )
    report = DockerOperator(
        task_id="report",
        image="alpine:3.20",
        command="echo report for {{ ds_nodash }}",
        environment={"LEVEL": "info"},
    )
    train >> report
