"""Manifests larger than Argo accepts.

What it checks
    At most 200 tasks in one DAG template and 200 templates in ``spec.templates``, at most 500 input parameters per
    template and 100 Prometheus metrics per template (the ``maxItems`` of Argo's CRD schema), and at most 1 MiB of
    JSON for the whole object (Argo's default ``MAX_WORKFLOW_SIZE``).

Why
    The Kubernetes API server rejects an object that breaks the CRD's limits, and Argo refuses to run a Workflow
    larger than its size limit. A generator (ours included) should fan out with ``withItems``/``withParam`` or
    split the work into WorkflowTemplates instead.

Example::

    dag:
      tasks: [...]      # 250 tasks: split the DAG, or fan out one template with withItems
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from backends.argo.lint.findings import Finding
from backends.argo.lint.manifest import MAX_DAG_TASKS, Manifest, Node, as_dict, as_list

NAME = "limits"
CODES = ("AM401",)

MAX_TEMPLATES = 200
MAX_INPUT_PARAMETERS = 500
MAX_METRICS = 100
MAX_OBJECT_BYTES = 1024 * 1024


def _count(node: Node, path: tuple[str, ...], limit: int, what: str) -> Iterator[Finding]:
    value: object = node.data
    for key in path:
        value = as_dict(value).get(key)
    count = len(as_list(value))
    if count > limit:
        yield Finding("AM401", (*node.path, *path), f"{what} has {count} items; Argo allows at most {limit}")


def check(doc: Manifest) -> Iterator[Finding]:
    spec = Node(doc.spec_path, doc.spec)
    yield from _count(spec, ("templates",), MAX_TEMPLATES, "spec.templates")
    for template in doc.all_templates:
        label = f"template '{template.name}'" if template.name else "an inline template"
        yield from _count(template, ("dag", "tasks"), MAX_DAG_TASKS, f"the DAG of {label}")
        yield from _count(template, ("inputs", "parameters"), MAX_INPUT_PARAMETERS, f"the inputs of {label}")
        yield from _count(template, ("metrics", "prometheus"), MAX_METRICS, f"the metrics of {label}")
    size = len(json.dumps(doc.data, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size > MAX_OBJECT_BYTES:
        yield Finding("AM401", (), f"the manifest is {size:,} bytes as JSON; Argo's limit is {MAX_OBJECT_BYTES:,} "
                                   f"(1 MiB)")
