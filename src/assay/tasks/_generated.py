"""Generated reasoning tasks: unit conversions, date reasoning, logic grids (fresh per seed)."""

from __future__ import annotations
