"""Chinese tasks written for assay: knowledge, math word problems, instruction following."""

from __future__ import annotations
