"""Helpers shared by tests that drive the installed `assay` console script."""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

# The question line of an arithmetic prompt (the last one is the item being asked).
QUESTION = re.compile(r"Question: ([^\n]*)\nAnswer:")


def assay_command() -> list[str]:
    """The installed console script of the interpreter running the tests."""
    beside = Path(sys.executable).parent / "assay"
    found = str(beside) if beside.is_file() else shutil.which("assay")
    assert found, "the assay console script is not installed (pip install -e .)"
    return [found]


def subprocess_env() -> dict[str, str]:
    """The same environment whether or not CI is set, and without API keys."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("CI", "ASSAY_API_KEY", "OPENAI_API_KEY")
    }
    env.update(COLUMNS="200", NO_COLOR="1", PYTHONUNBUFFERED="1")
    return env
