"""Tool-use tasks: calls via the OpenAI tools API or a text protocol, checked by execution."""

from __future__ import annotations
