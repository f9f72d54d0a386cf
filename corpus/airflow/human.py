# constructs: hitl-operator, hitl-entry-operator, approval-operator
"""Human decisions: each becomes an Argo suspend that a person resumes, with the choices as resume inputs."""

from airflow.providers.standard.operators.hitl import ApprovalOperator, HITLEntryOperator, HITLOperator
from airflow.sdk import DAG, Param

with DAG(dag_id="human_review", schedule=None):
    review = HITLOperator(task_id="review", subject="Which dataset should be published?",
                          options=["staging", "production"], defaults=["staging"])
    details = HITLEntryOperator(task_id="details", subject="Release notes",
                                params={"notes": Param("", type="string")})
    approve = ApprovalOperator(task_id="approve", subject="Publish now?")
    review >> details >> approve
