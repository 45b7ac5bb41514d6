"""Load a GGUF in a child process once before loading it in-process, so a crash says so.

A fault in llama.cpp's native code (e.g. the CPU backend's AMX kernels on Sapphire Rapids,
ggml-org/llama.cpp#20824) kills the process with no word: exit 139 and no results. A child that
loads the model and decodes a few tokens with the same settings turns that into one line naming
the signal, the CPU and what to try. Verdicts are cached per model file, llama.cpp build, CPU
features and load settings, so the probe runs once per machine and model.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

from assay._errors import TargetUnavailable

ExtraBufts = Literal["auto", "on", "off"]

# CPU flags that decide which native kernels llama.cpp runs: part of the verdict's key and of
# the crash message. AMX is what crashes today; the vector extensions pick the other kernels.
_FEATURE_PREFIXES = ("amx", "avx", "fma", "f16c", "bmi2", "sse4")
# Faults that come back on every run with the same inputs; a SIGKILL (e.g. the OOM killer) or
# a timeout may not, so they are never cached.
_DETERMINISTIC = frozenset(
    {signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE, signal.SIGABRT}
)
PROBE_TIMEOUT_S = 600.0
_PROBE_PROMPT = "The capital of France is Paris. The capital of Italy is Rome. The capital of"
_PREFILL_TOKENS = 64  # one prefill block of the in-process target: the same batch shape
_DECODE_TOKENS = 4
_CACHE_VERSION = 1
REBUILD_HINT = (
    'CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" '
    "pip install --force-reinstall --no-cache-dir llama-cpp-python"
)


@dataclass(frozen=True)
class LoadSettings:
    """What the probe and the real load share: a verdict holds only for these."""

    n_ctx: int
    n_threads: int
    use_extra_bufts: bool


@dataclass(frozen=True)
class Verdict:
    crashed: bool
    signal_name: str | None = None
    phase: Literal["loading", "decoding"] | None = None
    log_path: str | None = None


# -- CPU features and the extra-buffer-types decision -------------------------------------------


def cpu_flags() -> frozenset[str]:
    """The first CPU's feature flags from /proc/cpuinfo (empty where there is none)."""
    try:
        text = Path("/proc/cpuinfo").read_text("utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def cpu_features(flags: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(f for f in flags if f.startswith(_FEATURE_PREFIXES)))


def has_amx(flags: frozenset[str]) -> bool:
    return any(flag.startswith("amx") for flag in flags)


def decide_extra_bufts(setting: ExtraBufts, flags: frozenset[str]) -> bool:
    """`auto`: off where the CPU has AMX (llama.cpp's AMX buffer type segfaults there), else
    llama.cpp's default, on: measured without AMX (benchmarks/extra_bufts.py), its repacked
    weights prefill a Q4_0 GGUF 1.4-1.6x faster and are worth ±5% on the bundled Q4_K_M model."""
    if setting == "auto":
        return not has_amx(flags)
    return setting == "on"


_PARAMS_LOCK = threading.Lock()


@contextlib.contextmanager
def extra_bufts_param(use_extra_bufts: bool) -> Iterator[None]:
    """Models loaded inside get `use_extra_bufts` set as asked.

    llama-cpp-python 0.3 takes no argument for it: `Llama.__init__` starts from
    `llama_model_default_params()`, so for the length of the load that function hands out
    defaults with the field set. The lock keeps two loads in one process from mixing settings.
    """
    import llama_cpp.llama_cpp as native

    with _PARAMS_LOCK:
        original = native.llama_model_default_params

        def params() -> Any:
            value = original()
            value.use_extra_bufts = use_extra_bufts
            return value

        native.llama_model_default_params = params
        try:
            yield
        finally:
            native.llama_model_default_params = original


def load_llama(path: Path, settings: LoadSettings, **kwargs: Any) -> Any:
    """`llama_cpp.Llama` for `path` with these settings (the target's and the probe's load)."""
    import llama_cpp

    with extra_bufts_param(settings.use_extra_bufts):
        return llama_cpp.Llama(
            model_path=str(path), n_ctx=settings.n_ctx, n_threads=settings.n_threads, **kwargs
        )


# -- the probe ------------------------------------------------------------------------------


ChildCommand = Callable[[Path, LoadSettings], Sequence[str]]


def child_command(path: Path, settings: LoadSettings) -> list[str]:
    """This module run as a script: load `path`, decode a few tokens, report each phase."""
    payload = json.dumps({"path": str(path), **asdict(settings)})
    return [sys.executable, "-m", "assay.targets._native_probe", payload]


def probe_cache_dir() -> Path:
    """$ASSAY_CACHE_DIR, else $XDG_CACHE_HOME/assay, else ~/.cache/assay; `native-probe` in it."""
    root = os.environ.get("ASSAY_CACHE_DIR")
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = str(Path(xdg) / "assay")
    return Path(root) / "native-probe"


def verdict_key(path: Path, settings: LoadSettings, flags: frozenset[str]) -> dict[str, Any]:
    """Everything the verdict depends on: the model file, the native build, the CPU, the load."""
    stat = path.stat()
    return {
        "version": _CACHE_VERSION,
        "model": {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns},
        "llama_cpp": _native_build(),
        "cpu_features": list(cpu_features(flags)),
        "settings": asdict(settings),
    }


def _native_build() -> dict[str, Any]:
    """llama-cpp-python's version and its shared libraries' identity (a rebuild with other
    CMAKE_ARGS keeps the version but changes the libraries)."""
    import llama_cpp

    lib = Path(llama_cpp.__file__).parent / "lib"
    files = sorted(lib.iterdir()) if lib.is_dir() else []
    return {
        "version": llama_cpp.__version__,
        "libs": [[f.name, f.stat().st_size, f.stat().st_mtime_ns] for f in files if f.is_file()],
    }


def probe(
    path: Path,
    settings: LoadSettings,
    *,
    cache_dir: Path | None = None,
    command: ChildCommand | None = None,
    flags: frozenset[str] | None = None,
) -> Verdict:
    """The cached verdict for loading `path` with `settings`, probing in a child if none;
    `command` builds the child's argv (default `child_command`), `flags` are the CPU's
    (default `cpu_flags()`, read again)."""
    cache_dir = cache_dir or probe_cache_dir()
    command = command or child_command
    key = verdict_key(path, settings, cpu_flags() if flags is None else flags)
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]
    entry = cache_dir / f"{digest}.json"
    cached = _read_verdict(entry, key)
    if cached is not None:
        return cached
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only home: probe on every load rather than fail
        cache_dir = Path(tempfile.mkdtemp(prefix="assay-probe-"))
    verdict, cacheable = _run_child(command(path, settings), cache_dir / f"{digest}.log")
    if cacheable:
        with contextlib.suppress(OSError):
            _write_json(entry, {"key": key, "verdict": asdict(verdict)})
    return verdict


def _read_verdict(entry: Path, key: dict[str, Any]) -> Verdict | None:
    try:
        data = json.loads(entry.read_text("utf-8"))
        if data["key"] != key:  # a hash collision or an older format: probe again
            return None
        return Verdict(**data["verdict"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Atomically, so a probe killed halfway (or a concurrent one) leaves no half file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(data, out, indent=1)
    os.replace(temporary, path)


def _run_child(argv: Sequence[str], log_path: Path) -> tuple[Verdict, bool]:
    """(verdict, whether it may be cached). An exit with an error code is not a crash: the
    in-process load that follows reports that error itself (bad file, unsupported model)."""
    with log_path.open("wb") as log:
        try:
            done = subprocess.run(
                list(argv), stdout=subprocess.PIPE, stderr=log, timeout=PROBE_TIMEOUT_S
            )
        except subprocess.TimeoutExpired:
            raise TargetUnavailable(
                f"llama.cpp did not load and decode the model within {PROBE_TIMEOUT_S:.0f} s "
                f"in a child process; its log: {log_path}"
            ) from None
    if done.returncode >= 0:
        log_path.unlink(missing_ok=True)
        return Verdict(crashed=False), done.returncode == 0
    number = -done.returncode
    phase: Literal["loading", "decoding"] = "decoding" if b"loaded" in done.stdout else "loading"
    verdict = Verdict(True, _signal_name(number), phase, str(log_path))
    return verdict, number in _DETERMINISTIC


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


# -- what the targets and the server call ---------------------------------------------------


def safe_load_settings(
    path: Path,
    extra_bufts: ExtraBufts,
    *,
    n_ctx: int,
    n_threads: int,
    spec: str,
    cache_dir: Path | None = None,
    command: ChildCommand | None = None,
) -> LoadSettings:
    """The settings to load `path` with: the extra-buffer-types decision made and probed; a
    crash raises.

    Under `auto` a crash with extra buffer types on is retried with them off (a CPU whose
    faulty buffer type the AMX check missed), and a crash then reports the retry; a forced
    setting is probed as it is.
    """
    flags = cpu_flags()
    chosen = LoadSettings(n_ctx, n_threads, decide_extra_bufts(extra_bufts, flags))
    verdict = probe(path, chosen, cache_dir=cache_dir, command=command, flags=flags)
    if verdict.crashed and extra_bufts == "auto" and chosen.use_extra_bufts:
        chosen = replace(chosen, use_extra_bufts=False)
        verdict = probe(path, chosen, cache_dir=cache_dir, command=command, flags=flags)
    if verdict.crashed:
        raise TargetUnavailable(crash_message(path, chosen, verdict, flags, spec=spec))
    return chosen


def crash_message(
    path: Path, settings: LoadSettings, verdict: Verdict, flags: frozenset[str], *, spec: str
) -> str:
    features = " ".join(cpu_features(flags)) or "unknown"
    state = "on" if settings.use_extra_bufts else "off"
    base = spec.partition("?")[0]
    fix = (
        f"try {base}?extra_bufts=off, or rebuild llama-cpp-python without native CPU "
        f"code: {REBUILD_HINT}"
        if settings.use_extra_bufts
        else f"rebuild llama-cpp-python without native CPU code: {REBUILD_HINT}"
    )
    return (
        f"llama.cpp runtime crashed ({verdict.signal_name}) {verdict.phase} {path.name} on a CPU "
        f"with features {features} (extra buffer types {state}); {fix}; log: {verdict.log_path}"
    )


# -- the child ------------------------------------------------------------------------------


def _child_main(payload: str) -> None:
    import faulthandler

    import llama_cpp
    import numpy as np

    # The native stack is lost with the process; Python's at least names the call that faulted.
    faulthandler.enable()
    config = json.loads(payload)
    path = Path(config.pop("path"))
    llm = load_llama(path, LoadSettings(**config), verbose=False)
    print("loaded", flush=True)
    sentence = llm.tokenize(_PROBE_PROMPT.encode(), add_bos=True, special=False)
    llm.eval((sentence * _PREFILL_TOKENS)[:_PREFILL_TOKENS])  # a batch: matrix-matrix kernels
    for _ in range(_DECODE_TOKENS):  # one token at a time: the matrix-vector kernels
        logits = llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1)
        llm.eval([int(np.ctypeslib.as_array(logits, shape=(llm.n_vocab(),)).argmax())])
    print("decoded", flush=True)
    llm.close()


if __name__ == "__main__":
    _child_main(sys.argv[1])
