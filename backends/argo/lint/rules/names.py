"""Names that Argo or Kubernetes would reject.

What it checks
    ``metadata.name``: a DNS-1123 subdomain of at most 63 characters, 52 for a CronWorkflow (Argo appends a
    ``-<timestamp>`` suffix to the Workflows it creates); ``generateName`` must be a valid prefix. Template, DAG
    task and step names: ``[a-zA-Z0-9][-a-zA-Z0-9]*``, at most 128 characters, and in a DAG that uses ``depends``
    or ``dependencies`` no task name may start with a digit. Parameter and artifact names: ``[-a-zA-Z0-9_]+``.
    Names holding a ``{{...}}`` tag are checked with the tag replaced by a letter, as Argo does.

Why
    These are the rules of ``validateWorkflowFieldNames``/``isValidWorkflowFieldName`` and the length limits in
    Argo's ``workflow/validate/validate.go``; a name that breaks them is rejected at submission.

Example::

    templates:
      - name: build_image        # '_' is not allowed in a template name: use build-image
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from backends.argo.lint.findings import Finding
from backends.argo.lint.manifest import Manifest, Node, as_dict

NAME = "invalid-name"
CODES = ("AM408",)

MAX_OBJECT_NAME = {"CronWorkflow": 52}
DEFAULT_MAX_OBJECT_NAME = 63
MAX_FIELD_NAME = 128

_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_FIELD_NAME = re.compile(r"[a-zA-Z0-9][-a-zA-Z0-9]*")
_PARAM_NAME = re.compile(r"[-a-zA-Z0-9_]+")
_TAG = re.compile(r"\{\{.*?\}\}")


def _skeleton(name: str) -> str:
    """Tags are known only at run time: check the literal rest of the name (Argo's isValidStepName)."""
    return _TAG.sub("x", name)


def _metadata(doc: Manifest) -> Iterator[Finding]:
    meta = doc.metadata
    # A manifest with neither is fine: `argo submit --name/--generate-name` supplies one.
    name, generate = meta.get("name"), meta.get("generateName")
    if isinstance(name, str) and name and "{{" not in name:
        limit = MAX_OBJECT_NAME.get(doc.kind, DEFAULT_MAX_OBJECT_NAME)
        if len(name) > limit:
            yield Finding("AM408", ("metadata", "name"),
                          f"{doc.kind} name '{name}' is {len(name)} characters long; Argo allows at most {limit}")
        if not _DNS_SUBDOMAIN.fullmatch(name):
            yield Finding("AM408", ("metadata", "name"),
                          f"name '{name}' is not a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', "
                          f"starting and ending with a letter or digit)")
    if isinstance(generate, str) and generate:
        prefix = generate[:-1] + "a" if generate.endswith("-") else generate
        if not _DNS_SUBDOMAIN.fullmatch(prefix):
            yield Finding("AM408", ("metadata", "generateName"),
                          f"generateName '{generate}' is not a valid name prefix (lower-case letters, digits, '-' "
                          f"and '.', starting with a letter or digit)")


def _field_name(node: Node, what: str, digit_rule: bool = False) -> Iterator[Finding]:
    name = node.data.get("name")
    if name is None:
        if what != "task":  # a DAG task without a name is already a missing required field (AM407)
            yield Finding("AM408", node.path, f"{what} has no name")
        return
    if not isinstance(name, str):
        return  # a wrong type is reported by the structure check
    where = (*node.path, "name")
    skeleton = _skeleton(name)
    if len(skeleton) > MAX_FIELD_NAME:
        yield Finding("AM408", where, f"{what} name '{name}' is {len(name)} characters long; Argo allows at most "
                                      f"{MAX_FIELD_NAME}")
    if not _FIELD_NAME.fullmatch(skeleton):
        yield Finding("AM408", where, f"{what} name '{name}' is invalid: it must consist of letters, digits and '-', "
                                      f"and start with a letter or digit")
    elif digit_rule and skeleton[0].isdigit():
        yield Finding("AM408", where, f"task name '{name}' cannot begin with a digit in a DAG that uses 'depends' or "
                                      f"'dependencies'")


def check(doc: Manifest) -> Iterator[Finding]:
    yield from _metadata(doc)
    for template in doc.templates:
        yield from _field_name(template, "template")
    for template in doc.all_templates:
        for step in doc.steps(template):
            yield from _field_name(step, "step")
    for dag in doc.dags:
        digit_rule = dag.uses_depends or dag.uses_dependencies
        for task in dag.tasks:
            yield from _field_name(task, "task", digit_rule)
    for path, items in doc.iter_parameter_lists():
        what = "parameter" if path[-1] == "parameters" else "artifact"
        for i, item in enumerate(items):
            name = as_dict(item).get("name")
            if name == "":
                yield Finding("AM408", (*path, i, "name"), f"{what} name is empty")
            elif isinstance(name, str) and not _PARAM_NAME.fullmatch(name) and "{{" not in name:
                yield Finding("AM408", (*path, i, "name"),
                              f"{what} name '{name}' is invalid: it must consist of letters, digits, '-' and '_'")
