"""Helpers shared by tests: the installed `assay` console script, targets run to completion."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

import pytest

# ../shared/data beside the checkout (README there); ASSAY_SHARED_DATA overrides it for a
# checkout elsewhere. Tests that need it (`needs_data`) skip when it is absent, or fail under CI.
SHARED_DATA = Path(
    os.environ.get("ASSAY_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data"
)

if TYPE_CHECKING:
    from assay.targets._openai import OpenAITarget

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
DataVerdict = Literal["run", "skip", "fail"]

# The question line of an arithmetic prompt (the last one is the item being asked).
QUESTION = re.compile(r"Question: ([^\n]*)\nAnswer:")


def data_verdict(path: Path, environ: Mapping[str, str]) -> DataVerdict:
    """Whether a test that needs the data at `path` runs, skips or fails: absent data skips on
    a developer's machine but fails under CI (CI set, as .ci/run sets it), where a skip would
    hide that the tests never ran, as the PostgreSQL fixture does."""
    if path.is_dir():
        return "run"
    return "fail" if environ.get("CI") else "skip"


def have_data(path: Path = SHARED_DATA) -> bool:
    """True when `path` is there; False when absent here; a test failure when absent in CI."""
    verdict = data_verdict(path, os.environ)
    if verdict == "fail":
        pytest.fail(f"{path} is absent, and CI must run the tests that need it", pytrace=False)
    return verdict == "run"


def needs_data(test: F) -> F:
    """Decorator for a test that needs ../shared/data (see `data_verdict`)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> Any:
        if not have_data():
            pytest.skip(f"{SHARED_DATA} is absent (set ASSAY_SHARED_DATA to its copy)")
        return test(*args, **kwargs)

    return cast(F, run)


def without_namespaces() -> list[str]:
    """A command prefix under which the kernel really refuses the sandbox its namespaces: as
    root, setpriv drops CAP_SYS_ADMIN, so unshare(2) fails with EPERM."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("forcing namespaces off needs root and setpriv (util-linux)")
    return [setpriv, "--inh-caps=-sys_admin", "--bounding-set=-sys_admin", "--"]


def assay_command() -> list[str]:
    """The installed console script of the interpreter running the tests."""
    beside = Path(sys.executable).parent / "assay"
    found = str(beside) if beside.is_file() else shutil.which("assay")
    assert found, "the assay console script is not installed (pip install -e .)"
    return [found]


def run_assay(
    *args: str, timeout_s: float = 120, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`assay ARGS...` in a subprocess, as a user types it (plus `env` on top)."""
    return subprocess.run(
        [*assay_command(), *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env={**subprocess_env(), **(env or {})},
        check=False,
    )


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


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        return conn.execute(sql).fetchall()


def wait_for_scores(db: Path, process: subprocess.Popen[bytes], at_least: int) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before it could be interrupted"
        if db.exists():
            with contextlib.suppress(sqlite3.Error):  # schema not created yet, or busy
                (count,) = query(db, "SELECT count(*) FROM scores WHERE run_id = 'R'")[0]
                if isinstance(count, int) and count >= at_least:
                    return count
        time.sleep(0.02)
    raise AssertionError(f"fewer than {at_least} scores stored within 60 s")
