"""Ground truth: Snakemake's own job graph against the one our migration denotes, on Snakemake's own test workflows
(the ``tests/`` folders of its 9.27.1 sdist, fetched by package name; see :mod:`tests.snakemake_graph` for both
graphs and how they are compared).

Every folder holding a Snakefile (``Snakefile`` or ``workflow/Snakefile``, as Snakemake looks for them) is
planned as shipped: its own files, its default target, no options (the configuration, targets and profiles that
Snakemake's test suite passes to some of them live in its ``tests.py``, not in the folder). The outcome of a
folder is one of:

- **passed**: Snakemake planned it, and our workflow runs the same jobs in the same order (equal job sets,
  transitive closures and transitive reductions);
- **group serialized**: the same jobs, no order lost, and the only order added is that of a Snakemake group's
  pod: its jobs run one after the other, and the pod starts once all of its jobs' inputs exist (as Snakemake's own
  group job on a cluster does). Equal closures with each group taken as one unit;
- **wrapped whole**: Snakemake planned it, and the frontend runs the whole workflow with Snakemake in one pod,
  saying why (AM203 checkpoint, AM205 ``pipe()``);
- **oracle failed**: Snakemake cannot plan it as shipped, and the frontend refuses it too with Snakemake's error
  (AM200, or AM201 for a timeout) rather than make a workflow Snakemake would not run;
- **unverified** (skipped): the oracle cannot plan it but the frontend can; nothing to compare with.

Anything else fails: a different graph, a refusal of a workflow Snakemake plans, a whole-workflow wrap without
its reason, a frontend crash.

The full run (``make test-snakemake-sdist``, 429 folders, about 25 minutes cold and 8 warm on 2 cores) gave: 287
passed, 4 group serialized, 31 wrapped whole, 0 failed, 104 oracle failed, 3 unverified. The 104 folders Snakemake
cannot plan as shipped fail for reasons of the test rather than of Snakemake: 32 need a target (19: "Target rules
may not contain wildcards"), configuration, profile, resources or an environment variable that ``tests.py``
passes; about 36 need what is not installed here or the network (storage plugins, peppy, pandas/numpy, conda,
modules and meta-wrappers from GitHub); about 17 use removed features (remote providers, the ``subworkflow`` and
``version`` keywords); about 17 are Snakemake's tests of its own errors (syntax errors, ambiguous rules, duplicate
outputs, invalid resources or priorities, cyclic pathvars, a pipe into a rule that runs nothing); 2 time out
(200,000 jobs; a Snakefile waiting on a thread). The 3 unverified are the oracle's limits, not Snakemake's: two
read a workflow profile (``workflow/profiles/default``), which Snakemake's command line and the frontend read and
the oracle script does not; in one the oracle script times out on a 256 KiB shell command (a regular expression of
its own). Three folders (``test_pathlib``, ``test_module_nested``, ``test_wildcard_keyword``) have rules that are
ambiguous unless the files present decide, as Snakemake does: the frontend plans them again that way (AM211).
Run with ``-s`` for the counts and each folder's reason.

By default a deterministic sample of ``SAMPLE`` folders runs (the lowest SHA-256 of their names, ``SLOW`` left
out), about 40 s warm, so that ``make test`` stays quick; ``AM_SNAKEMAKE_SDIST=all`` (``make
test-snakemake-sdist``) runs every folder. Results are computed for the selected folders ahead of the tests, two
folders at a time (each side is a child process).
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import snakemake_graph as sg
from tests.corpora import snakemake_tests

SAMPLE = 40
# Left out of the sample (not of the full run): Snakemake itself does not plan them within the timeout (200,000
# jobs; a Snakefile waiting on a thread; a 256 KiB shell command), so each costs two timeouts.
SLOW = frozenset({"test_many_jobs", "test_queue_input", "test_long_shell"})
KINDS = ("passed", "group serialized", "wrapped whole", "failed", "oracle failed", "unverified")
REJECTING = frozenset({"AM200", "AM201"})
WHOLE = frozenset({"AM203", "AM205"})

pytestmark = pytest.mark.corpus


def _selected() -> list[tuple[Path, str]]:
    found = list(sg.folders(snakemake_tests()))
    if os.environ.get("AM_SNAKEMAKE_SDIST", "") == "all":
        return found
    ranked = sorted((item for item in found if item[0].name not in SLOW),
                    key=lambda item: hashlib.sha256(item[0].name.encode()).hexdigest())
    return sorted(ranked[:SAMPLE])


SELECTED = _selected()


@dataclass(frozen=True)
class Outcome:
    kind: str  # one of KINDS
    detail: str = ""


def judge(oracle: sg.Oracle, ours: sg.Ours) -> Outcome:
    codes = set(ours.codes)
    if oracle.graph is None:
        if ours.graph is None and codes & REJECTING:
            return Outcome("oracle failed", oracle.error)
        return Outcome("unverified", f"the oracle cannot plan it ({oracle.error}); the frontend made a workflow")
    if ours.graph is None:
        rejected = [m for m in ours.messages if any(c in m for c in REJECTING)]
        return Outcome("failed", f"rejected a workflow Snakemake plans: {' | '.join(rejected) or sorted(codes)}")
    if ours.whole:
        if codes & WHOLE:
            return Outcome("wrapped whole", ", ".join(sorted(codes & WHOLE)))
        return Outcome("failed", f"the whole workflow is wrapped without AM203/AM205 (codes {sorted(codes)})")
    comparison = sg.compare(oracle.graph, ours.graph, ours.grouped)
    if comparison.equal and comparison.reductions_equal:
        return Outcome("passed")
    if comparison.equal_as_units:
        return Outcome("group serialized", comparison.summary())
    return Outcome("failed", comparison.summary())


def _outcome(item: tuple[Path, str]) -> Outcome:
    folder, snakefile = item
    oracle = sg.oracle(folder, snakefile)
    try:
        ours = sg.ours(folder, snakefile)
    except Exception as exc:  # noqa: BLE001 - a crash of the frontend is this folder's failure, not the batch's
        return Outcome("failed", f"the frontend crashed: {type(exc).__name__}: {exc}")
    return judge(oracle, ours)


@pytest.fixture(scope="module")
def outcomes() -> Iterator[dict[str, Outcome]]:
    with ThreadPoolExecutor(2) as pool:
        results = dict(zip((f.name for f, _ in SELECTED), pool.map(_outcome, SELECTED), strict=True))
    yield results
    counts = Counter(o.kind for o in results.values())
    print(f"\nSnakemake sdist test folders: {len(results)} run; " + ", ".join(
        f"{counts[k]} {k}" for k in KINDS))
    for kind in ("failed", "unverified", "group serialized", "oracle failed"):
        for name, outcome in sorted(results.items()):
            if outcome.kind == kind:
                print(f"  {kind}: {name}: {outcome.detail[-300:]}")


@pytest.mark.parametrize("folder", [f.name for f, _ in SELECTED])
def test_job_graph_matches_snakemake(folder: str, outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes[folder]
    if outcome.kind == "unverified":
        pytest.skip(f"{folder}: {outcome.detail}")
    assert outcome.kind != "failed", f"{folder}: {outcome.detail}"
