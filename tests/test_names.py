"""Argo names: DNS-1123, within limits, unique and stable."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from backends.argo.names import Namer, dns_label, parameter_name

DNS = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def test_airflow_ids_become_readable_labels() -> None:
    assert dns_label("example_bash_operator") == "example-bash-operator"
    assert dns_label("section_1.task_2") == "section-1-task-2"
    assert dns_label("../x") == "x"
    assert dns_label("1st") == "x-1st"
    assert dns_label("in") == "in-x"


def test_long_names_are_cut_with_a_stable_digest() -> None:
    name = dns_label("a" * 100, 52)
    assert len(name) <= 52 and DNS.match(name)
    assert name == dns_label("a" * 100, 52)
    assert dns_label("a" * 100 + "b", 52) != name


@given(st.text(max_size=200), st.integers(min_value=10, max_value=128))
def test_any_id_gives_a_valid_label(raw: str, limit: int) -> None:
    name = dns_label(raw, limit)
    assert DNS.match(name) and len(name) <= limit


@given(st.lists(st.text(alphabet="aB_-.1", max_size=12), max_size=30))
def test_namer_hands_out_unique_names_deterministically(raws: list[str]) -> None:
    first, second = Namer(max_len=20), Namer(max_len=20)
    names = [first.take(r) for r in raws]
    assert len(set(names)) == len(names)
    assert names == [second.take(r) for r in raws]
    assert all(len(n) <= 20 and DNS.match(n) for n in names)


def test_parameter_names_keep_underscores() -> None:
    assert parameter_name("my_param") == "my_param"
    assert parameter_name("a b.c") == "a_b_c"
