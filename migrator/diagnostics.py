"""Compiler-style diagnostics: ``path:line:col: severity CODE: message``."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(enum.IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, order=True)
class Diagnostic:
    path: str
    line: int
    column: int
    severity: Severity
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.severity} {self.code}: {self.message}"

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": str(self.severity),
            "file": self.path,
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


def diag(code: str, path: str, line: int, column: int, message: str) -> Diagnostic:
    """A diagnostic whose severity is the one its code is registered with."""
    from migrator.codes import CODES

    return Diagnostic(path, line, column, CODES[code].severity, code, message)
