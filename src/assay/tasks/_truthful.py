"""Truthfulness tasks: TruthfulQA MC1/MC2 and hand-written misconception items."""

from __future__ import annotations
