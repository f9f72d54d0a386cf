""""Did you mean ...?" for names that resolve to nothing, and short listings of the names that would.

A suggestion compares the name with every candidate, and a listing names them all, so one per finding would make
lint quadratic on a manifest with thousands of misspelt names (FINDINGS F7). Each document gets a budget: at most
:data:`MAX_SUGGESTIONS` suggestions, none among more than :data:`MAX_CANDIDATES` names (Argo's own limits stay
below it: 200 templates, 200 tasks per DAG, 500 input parameters), and listings show :data:`MAX_LISTED` names.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable

MAX_SUGGESTIONS = 50
MAX_CANDIDATES = 1000
MAX_LISTED = 10


class Hints:
    """The suggestions of one document."""

    def __init__(self) -> None:
        self.left = MAX_SUGGESTIONS

    def close(self, name: str, candidates: Collection[str], cutoff: float = 0.7) -> str | None:
        """The candidate most like ``name``; None when none is close enough or the budget is spent."""
        if self.left <= 0 or not candidates or len(candidates) > MAX_CANDIDATES:
            return None
        self.left -= 1
        # Ties go to the greatest (score, name), so the answer does not depend on the candidates' order.
        found = difflib.get_close_matches(name, list(candidates), n=1, cutoff=cutoff)
        return found[0] if found else None

    def did_you_mean(self, name: str, candidates: Collection[str], cutoff: float = 0.7) -> str:
        """`` (did you mean 'x'?)``, or nothing."""
        close = self.close(name, candidates, cutoff)
        return f" (did you mean '{close}'?)" if close else ""


def listing(names: Iterable[str], form: str = "%s") -> str:
    """``a, b, c``, sorted, each name shown as ``form % name``; past :data:`MAX_LISTED` names,
    ``a, b, ... and 12 more``."""
    ordered = sorted(names)
    shown = ", ".join(form % name for name in ordered[:MAX_LISTED])
    return shown + (f" and {len(ordered) - MAX_LISTED} more" if len(ordered) > MAX_LISTED else "")
