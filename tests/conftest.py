"""Shared fixtures: real servers on loopback (llama.cpp, PostgreSQL), started and stopped here."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from assay.targets._llamacpp import LlamaCppTarget


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_http(url: str, process: subprocess.Popen[bytes], timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError(f"{url} did not answer within {timeout_s}s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def bundled_model() -> Path:
    from assay.targets._builtin import bundled_model_path

    return bundled_model_path()


def _assay_model_serve(*options: str) -> Iterator[str]:
    """`assay model serve builtin` on a free loopback port; yields its base URL."""
    port = free_port()
    log_path = Path(tempfile.mkdtemp(prefix="assay-llama-")) / "server.log"
    log = log_path.open("wb")
    argv = [sys.executable, "-m", "assay", "model", "serve", "builtin"]
    process = subprocess.Popen(
        [*argv, "--host", "127.0.0.1", "--port", str(port), *options],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        try:
            wait_for_http(f"http://127.0.0.1:{port}/v1/models", process)
        except RuntimeError as exc:
            # e.g. "assay: error: llama.cpp runtime crashed (SIGSEGV) ...": say what broke.
            lines = log_path.read_text("utf-8", errors="replace").strip().splitlines()
            pytest.fail(f"{exc}; its last line: {lines[-1] if lines else '(none)'}")
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        stop(process)
        log.close()
        shutil.rmtree(log_path.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def llama_server(bundled_model: Path) -> Iterator[str]:
    """The bundled model behind `assay model serve` (llama-cpp-python's OpenAI-compatible
    server, requests queued); yields the base URL."""
    yield from _assay_model_serve()


@pytest.fixture(scope="session")
def interrupting_llama_server(bundled_model: Path) -> Iterator[str]:
    """The same server as llama-cpp-python ships it: a running stream is cut as soon as another
    request waits (`interrupt_requests`), for tests of clients facing such servers."""
    yield from _assay_model_serve("--interrupt-requests")


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL server on a free loopback port (run as user postgres if root)."""
    if os.environ.get("ASSAY_TEST_POSTGRES_URL"):
        yield os.environ["ASSAY_TEST_POSTGRES_URL"]
        return
    bindir = _postgres_bin()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed; .ci/run must apt-get install postgresql")
        pytest.skip("PostgreSQL not installed (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="assay-pg-"))
    data = root / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [
            *as_user,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    port = free_port()
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -k {root} -c fsync=off"
    subprocess.run(
        [
            *as_user,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(root / "log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'assay.db'}"


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """ASSAY_HUB_ROOT pointing at an empty directory of hub repos; `datasets` kept offline."""
    from assay.tasks import _loaders as loaders

    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    datasets = pytest.importorskip("datasets")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-cache")
    root = tmp_path / "hub"
    root.mkdir()
    monkeypatch.setenv(loaders.HUB_ROOT_ENV, str(root))
    yield root


@pytest.fixture(scope="module")
def builtin() -> Iterator[LlamaCppTarget]:
    """The in-process llama.cpp target with the bundled model, started once per test module."""
    import asyncio

    from assay.targets._builtin import builtin_target

    target = builtin_target()
    asyncio.run(target.start())
    try:
        yield target
    finally:
        asyncio.run(target.close())
