"""A template is exactly one kind of thing.

What it checks
    Every template of ``spec.templates`` and every inline template sets exactly one of ``container``,
    ``containerSet``, ``script``, ``resource``, ``dag``, ``steps``, ``suspend``, ``data``, ``http`` and ``plugin``.

Why
    Argo's ``validateTemplateType`` rejects a template with none ("template type unspecified") or several ("multiple
    template types specified"); with several, which one would run is not obvious to a reader either.

Example::

    - name: hello
      container: {image: alpine, command: [echo, hi]}
      script: {image: python, source: print("hi")}    # container and script: two types
"""

from __future__ import annotations

from collections.abc import Iterator

from backends.argo.lint.findings import Finding
from backends.argo.lint.manifest import Manifest
from backends.argo.manifest_model import TEMPLATE_TYPES, template_types

NAME = "template-type"
CODES = ("AM420",)


def check(doc: Manifest) -> Iterator[Finding]:
    for template in doc.all_templates:
        given = template_types(template.data)
        label = f"template '{template.name}'" if template.name else "inline template"
        if not given:
            yield Finding("AM420", template.path, f"{label} has no type: set one of {', '.join(TEMPLATE_TYPES)}")
        elif len(given) > 1:
            yield Finding("AM420", (*template.path, given[1]),
                          f"{label} has several types ({', '.join(given)}); exactly one is allowed")
