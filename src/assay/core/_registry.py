"""Finding registered things by name: an unknown name gets the close ones and the full list."""

from __future__ import annotations

import difflib
from collections.abc import Sequence


def did_you_mean(kind: str, name: str, known: Sequence[str], listing: str) -> str:
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    return f"unknown {kind} {name!r}: {hint}known: {', '.join(known)} ({listing})"
