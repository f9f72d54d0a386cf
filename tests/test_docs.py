"""The README's support matrix is the one the registry generates; its wrapper reference, the catalogue's own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backends.wrappers.reference import reference_markdown
from migrator.matrix import support_matrix

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("language", ["airflow", "snakemake"])
def test_readme_matrix_is_generated_from_the_registry(language: str) -> None:
    readme = (ROOT / "README.md").read_text()
    match = re.search(rf"<!-- matrix:{language}:start -->\n(.*?)<!-- matrix:{language}:end -->", readme, re.S)
    assert match, "README has no generated matrix section"
    assert match.group(1) == support_matrix(language), f"regenerate it with: argo-migrate matrix {language}"


def test_readme_wrapper_reference_is_generated_from_the_catalogue() -> None:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- wrappers:start -->\n(.*?)<!-- wrappers:end -->", readme, re.S)
    assert match, "README has no generated wrapper reference"
    assert match.group(1) == reference_markdown(), "regenerate it with: argo-migrate templates --doc"


def test_every_registry_row_has_a_golden_fixture() -> None:
    """Each construct of the registry is used by some corpus file, whose output is checked against golden YAML."""
    from frontends.airflow.operators import REGISTRY

    corpus = [p.read_text() for p in (ROOT / "corpus" / "airflow").glob("*.py")]

    def used(name: str) -> bool:
        pattern = rf"^\s*{re.escape(name)}\b" if name.startswith("@") else rf"\b{re.escape(name)}\("
        return any(re.search(pattern, text, re.M) for text in corpus)

    missing = [row.names for row in REGISTRY if not any(used(n) for n in row.names)]
    assert missing == []
