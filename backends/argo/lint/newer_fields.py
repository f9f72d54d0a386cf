"""Fields Argo has that Hera's generated models do not know yet, per API type.

Hera 7.1's models were generated from Argo's v4.0.5 API; the team's reference schema (``../shared/argo/schema.json``)
is Argo's v4.1.2. A field listed here is accepted by Argo, so lint warns (AM406) rather than calling it unknown, and
does not check its content. ``tests/test_lint_examples.py`` recomputes this table from the schema and Hera's models,
so it cannot drift; when Hera's models catch up, the test says which rows to delete.
"""

from __future__ import annotations

HERA_MODELS_ARGO_VERSION = "4.0.5"
REFERENCE_ARGO_VERSION = "4.1.2"

# Keyed by the API definition name (the Hera class's module below ``hera.workflows.models`` plus its name).
NEWER_FIELDS: dict[str, frozenset[str]] = {
    "io.argoproj.workflow.v1alpha1.ContainerNode": frozenset({"restartPolicyRules"}),
    "io.argoproj.workflow.v1alpha1.HTTPArtifact": frozenset({"saveStreamViaFile"}),
    "io.argoproj.workflow.v1alpha1.S3Artifact": frozenset({"addressingStyle"}),
    "io.argoproj.workflow.v1alpha1.S3ArtifactRepository": frozenset({"addressingStyle"}),
    "io.argoproj.workflow.v1alpha1.ScriptTemplate": frozenset({"restartPolicyRules"}),
    "io.argoproj.workflow.v1alpha1.SubmitOpts": frozenset({"artifacts"}),
    "io.argoproj.workflow.v1alpha1.Template": frozenset({"pendingTimeout", "podResources", "resourceClaims"}),
    "io.argoproj.workflow.v1alpha1.UserContainer": frozenset({"restartPolicyRules"}),
    "io.argoproj.workflow.v1alpha1.WorkflowSpec": frozenset({"executorPlugins", "podResources", "resourceClaims"}),
    "io.k8s.api.core.v1.Container": frozenset({"restartPolicyRules"}),
    "io.k8s.api.core.v1.EnvVarSource": frozenset({"fileKeyRef"}),
    "io.k8s.api.core.v1.VolumeProjection": frozenset({"podCertificate"}),
}
