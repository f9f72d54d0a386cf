"""Each lint rule against its fixture (``corpus/argo-lint/bad/<rule>.yaml``), good manifests, bad input, properties.

A fixture line that must get a diagnostic ends with ``# expect: CODE [CODE...]``; the test compares the exact set of
(line, code) pairs, so a rule that fires on the wrong line, or on a line it should leave alone, fails.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backends.argo.lint import RULES, lint_paths, lint_text
from backends.argo.manifest_model import RESULTS, DependsError, parse_depends
from migrator.codes import CODES
from migrator.diagnostics import Severity

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "corpus" / "argo-lint"
BAD = sorted((FIXTURES / "bad").glob("*.yaml"))
GOOD = sorted(p for p in (FIXTURES / "good").iterdir() if p.suffix in (".yaml", ".yml", ".json"))
EXPECT = re.compile(r"#\s*expect:\s*(.*)$")

# The checks that are not rules of rules/: the loader, the kind dispatch and the structure check.
STRUCTURE_FIXTURES = {
    "invalid-yaml": ("AM402",),
    "unknown-kind": ("AM402", "AM403"),
    "kind-not-checked": ("AM404",),
    "unknown-field": ("AM405",),
    "newer-field": ("AM406",),
    "invalid-value": ("AM407",),
    "duplicate-key": ("AM421",),
}


def expected(path: Path) -> set[tuple[int, str]]:
    out = set()
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        match = EXPECT.search(line)
        if match:
            out.update((number, code) for code in match.group(1).split())
    return out


def found(path: Path) -> set[tuple[int, str]]:
    return {(d.line, d.code) for d in lint_text(path.read_text(), str(path))}


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_fixture_gets_exactly_the_expected_diagnostics(path: Path) -> None:
    want = expected(path)
    assert want, f"{path.name} expects nothing"
    assert found(path) == want


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_good_fixture_is_clean(path: Path) -> None:
    assert [str(d) for d in lint_text(path.read_text(), str(path))] == []


def test_good_fixtures_are_clean_when_linted_together() -> None:
    diagnostics, checked = lint_paths([str(FIXTURES / "good")])
    assert checked == len(GOOD) and diagnostics == []


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_every_rule_has_a_fixture_covering_its_codes(rule) -> None:
    fixture = FIXTURES / "bad" / f"{rule.name}.yaml"
    assert fixture.exists(), f"rule {rule.name} has no fixture {fixture}"
    assert set(rule.codes) <= {code for _, code in expected(fixture)}


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_every_rule_documents_what_why_and_an_example(rule) -> None:
    for part in ("What it checks", "Why", "Example::"):
        assert part in rule.doc, f"rule {rule.name}'s docstring has no '{part}'"


def test_every_fixture_is_a_rule_or_a_structure_check() -> None:
    names = {r.name for r in RULES} | set(STRUCTURE_FIXTURES)
    assert {p.stem for p in BAD} == names
    for name, codes in STRUCTURE_FIXTURES.items():
        assert set(codes) <= {code for _, code in expected(FIXTURES / "bad" / f"{name}.yaml")}


def test_every_lint_code_is_registered_and_exercised() -> None:
    lint_codes = {c for c in CODES if c.startswith("AM4")}
    exercised = {code for path in BAD for _, code in expected(path)}
    assert lint_codes == exercised
    assert {c for r in RULES for c in r.codes} | {c for cs in STRUCTURE_FIXTURES.values() for c in cs} == lint_codes


def test_diagnostics_have_the_registered_severity() -> None:
    for path in BAD:
        for d in lint_text(path.read_text(), str(path)):
            assert d.severity is CODES[d.code].severity


# --- bad input: a clear diagnostic, never a traceback or a hang ---------------------------------------------------

BAD_INPUT = {
    "empty": ("", set()),
    "only a comment": ("# nothing here\n", set()),
    "stray separators": ("---\n---\n", set()),
    "a scalar": ("hello\n", {"AM402"}),
    "a list": ("- a\n- b\n", {"AM402"}),
    "syntax error": ("kind: Workflow\n  spec: [\n", {"AM402"}),
    "tab indentation": ("kind: Workflow\nspec:\n\tentrypoint: x\n", {"AM402"}),
    "unknown tag": ("kind: !Ref Workflow\n", {"AM402"}),
    "recursive alias": ("&a [*a]\n", {"AM402"}),
    "alias bomb": ("a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                   "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                   "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
                   "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n", {"AM402"}),
    "deep nesting": ("[" * 5000 + "]" * 5000 + "\n", {"AM402"}),
    "kind is a number": ("apiVersion: v1\nkind: 5\n", {"AM403"}),
    "spec is a number": ("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: x}\nspec: 3\n",
                         {"AM407", "AM410"}),
    "templates is a mapping": ("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: x}\n"
                               "spec: {entrypoint: m, templates: {m: {}}}\n", {"AM407", "AM410"}),
    "tasks of the wrong shapes": ("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: x}\n"
                                  "spec:\n  entrypoint: m\n  templates:\n  - name: m\n    dag:\n"
                                  "      tasks: [3, [1], {name: 5, depends: 7, dependencies: x}]\n", {"AM407", "AM410"}),
    "deeply nested depends": ("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: x}\n"
                              "spec:\n  entrypoint: m\n  templates:\n  - name: m\n    dag:\n      tasks:\n"
                              "      - {name: a, template: m, depends: '" + "(" * 3000 + "'}\n", {"AM412"}),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUT))
def test_bad_input_gives_a_clear_diagnostic(name: str) -> None:
    text, codes = BAD_INPUT[name]
    start = time.perf_counter()
    diagnostics = lint_text(text, "input.yaml")
    assert time.perf_counter() - start < 10
    assert {d.code for d in diagnostics if d.severity is not Severity.INFO} == codes
    assert all(d.line >= 0 and d.message and "\n" not in d.message for d in diagnostics)


def test_unreadable_files_are_diagnosed(tmp_path: Path) -> None:
    (tmp_path / "binary.yaml").write_bytes(b"\x00\x01\x02")
    (tmp_path / "latin1.yaml").write_bytes("kind: caf\xe9\n".encode("latin-1"))
    diagnostics, checked = lint_paths([str(tmp_path), str(tmp_path / "missing.yaml")])
    assert checked == 2
    assert sorted(d.code for d in diagnostics) == ["AM001", "AM002", "AM002"]


def test_malformed_json_is_diagnosed_with_its_line() -> None:
    diagnostics = lint_text('{\n  "kind": "Workflow",\n  "spec": \n}\n', "w.json")
    assert [(d.code, d.line) for d in diagnostics] == [("AM402", 4)]


def test_a_crashing_rule_is_an_internal_error_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    import backends.argo.lint as lint
    from backends.argo.lint.rules import Rule

    def boom(doc: object) -> list[object]:
        raise RuntimeError("boom")

    monkeypatch.setattr(lint, "RULES", (Rule("boom", ("AM901",), boom, ""),))
    text = (FIXTURES / "good" / "as-json.json").read_text()
    assert [(d.code, "boom" in d.message) for d in lint_text(text, "w.json")] == [("AM901", True)]


# --- properties -----------------------------------------------------------------------------------------------

def dag_manifest(edges: dict[int, list[int]], n: int) -> str:
    lines = ["apiVersion: argoproj.io/v1alpha1", "kind: Workflow", "metadata: {generateName: random-}", "spec:",
             "  entrypoint: main", "  templates:", "    - name: main", "      dag:", "        tasks:"]
    for i in range(n):
        depends = " || ".join(f"t{j}.Succeeded" for j in edges.get(i, []))
        lines.append(f"          - {{name: t{i}, template: work" + (f", depends: '{depends}'" if depends else "") + "}")
    lines += ["    - name: work", "      container: {image: alpine}"]
    return "\n".join(lines) + "\n"


@st.composite
def acyclic(draw: st.DrawFn) -> tuple[int, dict[int, list[int]]]:
    n = draw(st.integers(min_value=1, max_value=25))
    edges = {i: sorted(draw(st.sets(st.integers(0, i - 1), max_size=4))) if i else [] for i in range(n)}
    return n, edges


@settings(max_examples=60, deadline=None)
@given(acyclic())
def test_random_dags_without_a_cycle_are_clean(dag: tuple[int, dict[int, list[int]]]) -> None:
    n, edges = dag
    assert [str(d) for d in lint_text(dag_manifest(edges, n), "dag.yaml")] == []


@settings(max_examples=60, deadline=None)
@given(acyclic(), st.data())
def test_random_dags_with_a_back_edge_always_report_a_cycle(dag: tuple[int, dict[int, list[int]]],
                                                              data: st.DataObject) -> None:
    n, edges = dag
    # Close a cycle: a task depends on one of its descendants (or on itself).
    descendants: dict[int, set[int]] = {i: set() for i in range(n)}
    for i in reversed(range(n)):
        for j in edges[i]:
            descendants[j] |= {i} | descendants[i]
    source = data.draw(st.integers(0, n - 1))
    target = data.draw(st.sampled_from(sorted(descendants[source] | {source})))
    edges = {i: list(e) for i, e in edges.items()}
    edges[source].append(target)
    codes = [d.code for d in lint_text(dag_manifest(edges, n), "dag.yaml")]
    assert codes and set(codes) == {"AM414"}


names = st.from_regex(r"[a-z][a-z0-9]{0,3}(-[a-z0-9]{1,3})?", fullmatch=True)
refs = st.tuples(names, st.none() | st.sampled_from(RESULTS))


@st.composite
def expressions(draw: st.DrawFn, depth: int = 0) -> tuple[str, list[tuple[str, str | None]]]:
    if depth >= 3 or draw(st.booleans()):
        name, result = draw(refs)
        return (f"{name}.{result}" if result else name), [(name, result)]
    kind = draw(st.sampled_from(["and", "or", "not", "paren"]))
    left, left_refs = draw(expressions(depth + 1))
    if kind == "not":
        return f"!{left}", left_refs
    if kind == "paren":
        return f"( {left} )", left_refs
    right, right_refs = draw(expressions(depth + 1))
    return f"{left} {'&&' if kind == 'and' else '||'} {right}", left_refs + right_refs


@settings(max_examples=200, deadline=None)
@given(expressions())
def test_depends_parser_finds_every_reference(expression: tuple[str, list[tuple[str, str | None]]]) -> None:
    text, want = expression
    assert [(r.task, r.result) for r in parse_depends(text).refs] == want
    # Argo finds task names with this regular expression (workflow/common/ancestry.go); the names must agree.
    argo = re.findall(r"([a-zA-Z0-9][-a-zA-Z0-9]*?)\.[A-Z][a-zA-Z]+|([a-zA-Z0-9][-a-zA-Z0-9]*)", text)
    assert [a or b for a, b in argo] == [name for name, _ in want]


@settings(max_examples=200, deadline=None)
@given(expressions(), st.sampled_from(["{} &&", "({}", "{})", "{} ||| x", "{} x", "{}.Succeded"]))
def test_depends_parser_rejects_broken_expressions(expression: tuple[str, list[object]], breakage: str) -> None:
    text = breakage.format(expression[0])
    with pytest.raises(DependsError):
        parse_depends(text)
