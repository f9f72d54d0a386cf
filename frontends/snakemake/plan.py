"""The plan Snakemake computed (see :mod:`frontends.snakemake.adapter`), as typed values: rules, jobs, edges.

Reading is strict about shape and lenient about nothing: a plan that does not have the fields below is a bug of the
adapter, reported as such by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FileRef:
    path: str
    flags: tuple[str, ...] = ()

    def flagged(self, flag: str) -> bool:
        return flag in self.flags


# One piece of a rule's shell text: a literal, or a replacement field ("input.counts", conversion, format spec).
ShellPart = str | tuple[str, str, str]


@dataclass(frozen=True)
class Rule:
    name: str
    path: str
    line: int
    kind: str  # shell, run, script, notebook, wrapper, cwl, template_engine, none
    shell_parts: tuple[ShellPart, ...] | None
    checkpoint: bool = False
    local: bool = False
    shadow: str | None = None
    conda: bool = False
    envmodules: tuple[str, ...] = ()
    docstring: str | None = None


@dataclass(frozen=True)
class Job:
    key: str  # "rule" or "rule[w1=v1,...]", wildcards sorted by name
    jobid: int
    rule: str
    wildcards: tuple[tuple[str, str], ...]
    input: tuple[FileRef, ...]
    output: tuple[FileRef, ...]
    log: tuple[str, ...]
    benchmark: str | None
    shell: str | None  # Snakemake's own formatted command
    shell_values: tuple[str, ...] | None  # each replacement field of the rule's shell text, formatted for this job
    threads: int
    resources: tuple[tuple[str, Any], ...]
    params: tuple[tuple[str, Any], ...]
    container: str | None
    group: str | None
    retries: int
    priority: int
    message: str | None

    def resource(self, name: str) -> Any:
        return dict(self.resources).get(name)


@dataclass(frozen=True)
class Shell:
    executable: str
    prefix: str
    suffix: str


@dataclass
class Plan:
    snakefile: str
    workdir: str
    version: str
    default_target: str | None
    shell: Shell
    included: tuple[str, ...]
    rules: dict[str, Rule]
    jobs: list[Job]
    edges: list[tuple[str, str]]
    config_keys: tuple[str, ...] = ()
    globbed: tuple[tuple[str, int], ...] = ()  # glob_wildcards calls: pattern, files matched
    files_decided: bool = False  # planned again with this machine's files choosing between ambiguous rules
    by_key: dict[str, Job] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_key = {j.key: j for j in self.jobs}


def _files(raw: list[dict[str, Any]]) -> tuple[FileRef, ...]:
    return tuple(FileRef(str(f["path"]), tuple(f.get("flags", ()))) for f in raw)


def _parts(raw: list[Any] | None) -> tuple[ShellPart, ...] | None:
    if raw is None:
        return None
    return tuple(p if isinstance(p, str) else (str(p[0]), str(p[1]), str(p[2])) for p in raw)


def load(data: dict[str, Any]) -> Plan:
    rules = {
        name: Rule(name=name, path=r["path"], line=int(r["line"]), kind=r["kind"], shell_parts=_parts(r["shell_parts"]),
                   checkpoint=bool(r["checkpoint"]), local=bool(r["local"]), shadow=r.get("shadow"),
                   conda=bool(r.get("conda")), envmodules=tuple(r.get("envmodules") or ()),
                   docstring=r.get("docstring"))
        for name, r in data["rules"].items()
    }
    jobs = [
        Job(key=j["key"], jobid=int(j["jobid"]), rule=j["rule"], wildcards=tuple(sorted(j["wildcards"].items())),
            input=_files(j["input"]), output=_files(j["output"]), log=tuple(j["log"]), benchmark=j.get("benchmark"),
            shell=j.get("shell"), shell_values=tuple(j["shell_values"]) if j.get("shell_values") is not None else None,
            threads=int(j["threads"]), resources=tuple(sorted(j["resources"].items())),
            params=tuple(sorted(j["params"].items())), container=j.get("container"),
            group=str(j["group"]) if j.get("group") is not None else None, retries=int(j.get("retries") or 0),
            priority=int(j.get("priority") or 0), message=j.get("message"))
        for j in data["jobs"]
    ]
    shell = data["shell"]
    return Plan(snakefile=data["snakefile"], workdir=data["workdir"], version=data["snakemake_version"],
                default_target=data.get("default_target"),
                shell=Shell(shell["executable"], shell["prefix"], shell["suffix"]),
                included=tuple(data.get("included", ())), rules=rules, jobs=jobs,
                edges=[(a, b) for a, b in data["edges"]], config_keys=tuple(data.get("config_keys", ())),
                globbed=tuple((str(g["pattern"]), int(g["matches"])) for g in data.get("globbed", ())),
                files_decided=bool(data.get("files_decided")))
