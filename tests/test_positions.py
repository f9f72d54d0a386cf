"""Source positions from Python's own parser (frontends/airflow/positions.py) equal LibCST's, node for node, on
files nobody here wrote (Airflow's examples) and on ours; a node they do not cover is placed by regenerating only
its statement, with the same result."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from frontends.airflow.positions import Positions
from tests.corpora import airflow3_examples

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "airflow"


def _check(source: str) -> int:
    module = cst.parse_module(source)
    truth = {node: (r.start.line, r.start.column + 1)
             for node, r in MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider).items()}
    fast = Positions(module, source)
    assert fast.known, "the ast pairing found nothing"
    wrong = {type(n).__name__: (pos, truth.get(n)) for n, pos in fast.known.items() if truth.get(n) != pos}
    assert wrong == {}
    # Nodes the pairing does not cover come from regenerating their top-level statement.
    for index, statement in enumerate(module.body):
        for node in _descendants(statement)[:20]:
            assert fast.get(node, statement) == truth[node], (index, type(node).__name__)
    return len(fast.known)


def _descendants(node: cst.CSTNode) -> list[cst.CSTNode]:
    out: list[cst.CSTNode] = []
    stack = [node]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(current.children)
    return out


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.py")), ids=lambda p: p.name)
def test_positions_of_our_corpus(path: Path) -> None:
    assert _check(path.read_text()) > 0


@pytest.mark.corpus
def test_positions_of_airflows_example_dags() -> None:
    files = sorted(airflow3_examples().glob("*.py"))
    assert len(files) > 50
    assert sum(_check(f.read_text()) for f in files) > 1000
