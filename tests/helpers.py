"""Helpers shared by tests: the installed `assay` console script, targets run to completion."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

# ../shared/data beside the checkout (README there); ASSAY_SHARED_DATA overrides it for a
# checkout elsewhere. Tests that need it skip when it is absent.
SHARED_DATA = Path(
    os.environ.get("ASSAY_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data"
)

if TYPE_CHECKING:
    from assay.targets._openai import OpenAITarget

T = TypeVar("T")

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


def free_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def interruptible() -> None:
    """`preexec_fn` for a child that a test stops with SIGINT: a shell without job control
    starts background commands with SIGINT ignored, and Python keeps an ignored SIGINT ignored,
    so a test run launched that way (`cmd &` in a script) would see Ctrl-C do nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def with_target(target: OpenAITarget, use: Callable[[OpenAITarget], Awaitable[T]]) -> T:
    """`use(target)` between the target's start and close, on a fresh event loop."""

    async def go() -> T:
        await target.start()
        try:
            return await use(target)
        finally:
            await target.close()

    return asyncio.run(go())
