"""The child-process probe of llama.cpp loads: the real model decodes, a crash is one line.

The bundled model's probe runs on every machine and matters on CPUs with AMX, where llama.cpp's
AMX buffer type segfaults on the first matrix multiplication. The crash path runs for real: a
child that kills itself with SIGSEGV stands in for llama.cpp.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from assay._errors import SpecError, TargetError, TargetUnavailable
from assay.targets import FakeTarget, GenerateConfig, Request, resolve_target
from assay.targets import _native_probe as native_probe
from assay.targets._llamacpp import LlamaCppTarget, usable_cpus
from assay.targets._native_probe import (
    ExtraBufts,
    LoadSettings,
    cpu_features,
    cpu_flags,
    decide_extra_bufts,
    probe,
    safe_load_settings,
)
from assay.targets._registry import OverridingTarget, split_overrides

AMX_CPU = frozenset({"amx_bf16", "amx_int8", "amx_tile", "avx512f", "avx2", "fma", "sse2"})
PLAIN_CPU = frozenset({"avx512f", "avx2", "fma", "sse2"})
SETTINGS = LoadSettings(n_ctx=4096, n_threads=2, use_extra_bufts=True)


def python_child(code: str) -> native_probe.ChildCommand:
    """A probe child running `code` in place of loading the model."""

    def command(path: Path, settings: LoadSettings) -> list[str]:
        return [sys.executable, "-c", code]

    return command


SEGFAULT_WHILE_DECODING = python_child(
    "import os, signal; print('loaded', flush=True); os.kill(os.getpid(), signal.SIGSEGV)"
)
SUCCEEDS = python_child("print('loaded'); print('decoded')")


def must_not_run(path: Path, settings: LoadSettings) -> Sequence[str]:
    raise AssertionError("a cached verdict was expected: no child should have been started")


def crash_unless_extra_bufts_off(path: Path, settings: LoadSettings) -> list[str]:
    if settings.use_extra_bufts:
        return SEGFAULT_WHILE_DECODING(path, settings)
    return SUCCEEDS(path, settings)


def load_settings(path: Path, extra_bufts: ExtraBufts, **options: Any) -> LoadSettings:
    """`safe_load_settings` with the context size and threads of SETTINGS."""
    return safe_load_settings(
        path, extra_bufts, n_ctx=SETTINGS.n_ctx, n_threads=SETTINGS.n_threads, **options
    )


def succeeds_never_run_with_extra_bufts(path: Path, settings: LoadSettings) -> list[str]:
    if settings.use_extra_bufts:
        raise AssertionError("a probe with extra buffer types on was started")
    return SUCCEEDS(path, settings)


def crashes_both_ways(tried: list[bool]) -> native_probe.ChildCommand:
    """A child that faults whatever the settings, SIGSEGV decoding with extra buffer types on
    and SIGBUS loading with them off; `tried` gets each attempt's setting."""

    def command(path: Path, settings: LoadSettings) -> list[str]:
        tried.append(settings.use_extra_bufts)
        if settings.use_extra_bufts:
            return SEGFAULT_WHILE_DECODING(path, settings)
        return [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGBUS)"]

    return command


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    """A file to key verdicts on; the scripted children never read it."""
    path = tmp_path / "tiny.gguf"
    path.write_bytes(b"GGUF stand-in")
    return path


@pytest.fixture
def cpu(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setattr(native_probe, "cpu_flags", lambda: PLAIN_CPU)
    return monkeypatch


# -- the real model --------------------------------------------------------------------------


@pytest.mark.slow
def test_bundled_model_loads_and_decodes_in_a_child(bundled_model: Path, tmp_path: Path) -> None:
    try:
        chosen = safe_load_settings(
            bundled_model,
            "auto",
            n_ctx=4096,
            n_threads=usable_cpus(),
            spec="builtin",
            cache_dir=tmp_path,
        )
    except TargetError as exc:
        pytest.fail(str(exc))  # the one line: signal, CPU features, what to try
    assert chosen.use_extra_bufts == decide_extra_bufts("auto", cpu_flags())
    (entry,) = tmp_path.glob("*.json")
    assert json.loads(entry.read_text())["verdict"]["crashed"] is False


@pytest.mark.slow
@pytest.mark.parametrize("use_extra_bufts", [True, False])
def test_the_setting_reaches_llama_cpp(bundled_model: Path, use_extra_bufts: bool) -> None:
    # llama.cpp logs each weight buffer it allocates; repacked weights live in an extra one.
    code = (
        "import sys; from pathlib import Path; "
        "from assay.targets._native_probe import LoadSettings, load_llama; "
        f"load_llama(Path(sys.argv[1]), LoadSettings(512, 1, {use_extra_bufts}), verbose=True)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(bundled_model)], capture_output=True, check=True
    )
    extra = [
        line
        for line in done.stderr.decode(errors="replace").splitlines()
        if "model buffer size" in line and "CPU_Mapped" not in line and " CPU " not in line
    ]
    if not use_extra_bufts:
        assert extra == []
    elif "avx2" in cpu_flags():  # x86-64 with AVX2: Q4_K weights repack into q4_K_8x8
        assert extra, "no extra buffer type with use_extra_bufts on"


@pytest.mark.slow
def test_target_option_loads_without_extra_buffer_types(tmp_path: Path) -> None:
    target = resolve_target("builtin?extra_bufts=off&max_tokens=4")
    assert target.spec == "builtin?extra_bufts=off&max_tokens=4"
    asyncio.run(target.start())
    try:
        inner = target._inner  # type: ignore[attr-defined]
        assert inner.load_settings == LoadSettings(4096, usable_cpus(), use_extra_bufts=False)
    finally:
        asyncio.run(target.close())


# -- the crash path, for real -----------------------------------------------------------------


def test_a_crash_is_one_line_naming_signal_cpu_and_fix(
    model_file: Path, tmp_path: Path, cpu: pytest.MonkeyPatch
) -> None:
    with pytest.raises(TargetUnavailable) as raised:
        load_settings(
            model_file,
            "on",
            spec="gguf:" + str(model_file),
            cache_dir=tmp_path / "cache",
            command=SEGFAULT_WHILE_DECODING,
        )
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("llama.cpp runtime crashed (SIGSEGV) decoding tiny.gguf on a CPU")
    assert "features avx2 avx512f fma" in message
    assert "extra buffer types on" in message
    assert f"try gguf:{model_file}?extra_bufts=off, or" in message
    assert 'CMAKE_ARGS="-DGGML_NATIVE=OFF' in message
    log = Path(message.rpartition("log: ")[2])
    assert log.is_file()  # the child's stderr, with faulthandler's traceback in real probes


def test_on_amx_auto_loads_without_extra_buffer_types(
    model_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(native_probe, "cpu_flags", lambda: AMX_CPU)
    chosen = load_settings(
        model_file,
        "auto",
        spec="builtin",
        cache_dir=tmp_path,
        command=succeeds_never_run_with_extra_bufts,  # off from the start, not after a crash
    )
    assert chosen == LoadSettings(4096, 2, use_extra_bufts=False)


def test_a_crash_with_extra_buffer_types_off_suggests_the_rebuild(
    model_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(native_probe, "cpu_flags", lambda: AMX_CPU)
    with pytest.raises(TargetUnavailable) as raised:
        load_settings(
            model_file,
            "auto",
            spec="builtin",
            cache_dir=tmp_path,
            command=python_child("import os, signal; os.kill(os.getpid(), signal.SIGBUS)"),
        )
    message = str(raised.value)
    assert message.startswith("llama.cpp runtime crashed (SIGBUS) loading tiny.gguf")
    assert "features amx_bf16 amx_int8 amx_tile avx2 avx512f fma" in message
    assert "extra buffer types off" in message
    assert "?extra_bufts=off" not in message  # already off: only the rebuild is left
    assert "rebuild llama-cpp-python without native CPU code" in message


def test_auto_retries_without_extra_buffer_types_and_remembers_both(
    model_file: Path, tmp_path: Path, cpu: pytest.MonkeyPatch
) -> None:
    # A CPU whose faulty buffer type the AMX check does not know: auto falls back by itself.
    first = load_settings(
        model_file,
        "auto",
        spec="builtin",
        cache_dir=tmp_path,
        command=crash_unless_extra_bufts_off,
    )
    assert first.use_extra_bufts is False
    again = load_settings(
        model_file,
        "auto",
        spec="builtin",
        cache_dir=tmp_path,
        command=must_not_run,
    )
    assert again == first


def test_when_the_retry_crashes_too_the_line_is_about_the_retry(
    model_file: Path, tmp_path: Path, cpu: pytest.MonkeyPatch
) -> None:
    tried: list[bool] = []
    with pytest.raises(TargetUnavailable) as raised:
        load_settings(
            model_file,
            "auto",
            spec=f"gguf:{model_file}",
            cache_dir=tmp_path,
            command=crashes_both_ways(tried),
        )
    assert tried == [True, False]
    message = str(raised.value)
    assert "\n" not in message
    # The retry's verdict and settings: off was tried, so only the rebuild is left to suggest.
    assert message.startswith("llama.cpp runtime crashed (SIGBUS) loading tiny.gguf on a CPU")
    assert "extra buffer types off" in message
    assert "?extra_bufts=off" not in message
    assert f"rebuild llama-cpp-python without native CPU code: {native_probe.REBUILD_HINT}" in (
        message
    )
    assert Path(message.rpartition("log: ")[2]).is_file()


def test_forced_on_is_not_retried(
    model_file: Path, tmp_path: Path, cpu: pytest.MonkeyPatch
) -> None:
    with pytest.raises(TargetUnavailable, match="SIGSEGV"):
        load_settings(
            model_file,
            "on",
            spec="builtin",
            cache_dir=tmp_path,
            command=crash_unless_extra_bufts_off,
        )


# -- the verdict cache -----------------------------------------------------------------------


def test_the_verdict_is_reused_until_the_model_file_changes(
    model_file: Path, tmp_path: Path, cpu: pytest.MonkeyPatch
) -> None:
    assert not probe(model_file, SETTINGS, cache_dir=tmp_path, command=SUCCEEDS).crashed
    assert not probe(model_file, SETTINGS, cache_dir=tmp_path, command=must_not_run).crashed
    with pytest.raises(AssertionError, match="cached verdict"):  # other settings: probed anew
        probe(model_file, LoadSettings(4096, 2, False), cache_dir=tmp_path, command=must_not_run)
    stat = model_file.stat()
    os.utime(model_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    with pytest.raises(AssertionError, match="cached verdict"):
        probe(model_file, SETTINGS, cache_dir=tmp_path, command=must_not_run)


def test_the_key_names_cpu_features_and_the_native_build(model_file: Path) -> None:
    key = native_probe.verdict_key(model_file, SETTINGS, AMX_CPU)
    assert key["cpu_features"] == list(cpu_features(AMX_CPU))
    assert "sse2" not in key["cpu_features"] and "amx_tile" in key["cpu_features"]
    assert key["llama_cpp"]["version"] and key["llama_cpp"]["libs"]
    assert key["settings"] == {"n_ctx": 4096, "n_threads": 2, "use_extra_bufts": True}


def test_a_kill_is_not_remembered_a_segfault_is(
    model_file: Path, tmp_path: Path, cpu: pytest.MonkeyPatch
) -> None:
    killed = python_child("import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
    assert probe(model_file, SETTINGS, cache_dir=tmp_path, command=killed).signal_name == "SIGKILL"
    with pytest.raises(AssertionError, match="cached verdict"):  # the OOM killer may not return
        probe(model_file, SETTINGS, cache_dir=tmp_path, command=must_not_run)
    crashed = probe(model_file, SETTINGS, cache_dir=tmp_path, command=SEGFAULT_WHILE_DECODING)
    cached = probe(model_file, SETTINGS, cache_dir=tmp_path, command=must_not_run)
    assert cached == crashed and cached.signal_name == "SIGSEGV"


def test_an_error_exit_is_left_to_the_real_load(
    model_file: Path, tmp_path: Path, cpu: pytest.MonkeyPatch
) -> None:
    # A file llama.cpp rejects fails in the child with an exception, not a signal: the load in
    # this process then raises its own message, so nothing is cached and nothing is blamed.
    failing = python_child("raise SystemExit(1)")
    assert not probe(model_file, SETTINGS, cache_dir=tmp_path, command=failing).crashed
    assert list(tmp_path.glob("*.json")) == []


def test_an_unwritable_cache_dir_probes_every_time(
    model_file: Path, tmp_path: Path, cpu: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    assert not probe(model_file, SETTINGS, cache_dir=blocker / "cache", command=SUCCEEDS).crashed
    with pytest.raises(AssertionError, match="cached verdict"):
        probe(model_file, SETTINGS, cache_dir=blocker / "cache", command=must_not_run)


def test_the_cache_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSAY_CACHE_DIR", "/somewhere")
    assert native_probe.probe_cache_dir() == Path("/somewhere/native-probe")
    monkeypatch.delenv("ASSAY_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", "/xdg")
    assert native_probe.probe_cache_dir() == Path("/xdg/assay/native-probe")


def test_decide_extra_bufts() -> None:
    assert decide_extra_bufts("auto", AMX_CPU) is False
    assert decide_extra_bufts("auto", PLAIN_CPU) is True
    assert decide_extra_bufts("on", AMX_CPU) is True
    assert decide_extra_bufts("off", PLAIN_CPU) is False


# -- the target string -----------------------------------------------------------------------


def test_extra_bufts_in_the_target_string_reaches_the_local_target() -> None:
    target = resolve_target("gguf:/models/m.gguf?temperature=1&extra_bufts=off")
    assert isinstance(target, OverridingTarget)
    assert target.spec == "gguf:/models/m.gguf?extra_bufts=off&temperature=1.0"
    assert split_overrides(target.spec) == (
        "gguf:/models/m.gguf",
        {"extra_bufts": "off", "temperature": 1.0},
    )  # the spec parses back to the same target
    inner = target._inner
    assert isinstance(inner, LlamaCppTarget) and inner._extra_bufts == "off"
    assert resolve_target("gguf:/models/m.gguf")._extra_bufts == "auto"  # type: ignore[attr-defined]


def test_extra_bufts_is_not_sent_as_a_generation_parameter() -> None:
    inner = FakeTarget(("ok",), name="fake:x")
    wrapped = OverridingTarget(inner, {"extra_bufts": "on", "temperature": 1.5})
    request = Request(mode="completion", config=GenerateConfig(max_tokens=9), prompt="p")
    assert asyncio.run(wrapped.send(request)).text == "ok"
    assert inner.requests[0].config.temperature == 1.5


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("builtin?extra_bufts=maybe", "extra_bufts must be auto, on or off, got 'maybe'"),
        ("openai:http://h:1/v1?extra_bufts=off", "extra_bufts applies to builtin and gguf:"),
        ("fake:x?extra_bufts=off", "extra_bufts applies to builtin and gguf: targets only"),
        ("builtin?extra_buft=off", "did you mean 'extra_bufts'"),
    ],
)
def test_bad_extra_bufts_strings_are_one_line(spec: str, message: str) -> None:
    with pytest.raises(SpecError, match=re.escape(message)):
        resolve_target(spec)


# -- through the target and the command line --------------------------------------------------


def test_the_in_process_target_raises_the_line(
    model_file: Path, tmp_path: Path, cpu: pytest.MonkeyPatch
) -> None:
    cpu.setenv("ASSAY_CACHE_DIR", str(tmp_path))
    cpu.setattr(native_probe, "child_command", SEGFAULT_WHILE_DECODING)
    target = LlamaCppTarget(model_file)
    with pytest.raises(TargetUnavailable, match=r"^llama\.cpp runtime crashed \(SIGSEGV\)"):
        asyncio.run(target.start())


@pytest.mark.parametrize("command", ["run", "serve"])
def test_assay_run_and_model_serve_print_the_line(
    command: str,
    model_file: Path,
    tmp_path: Path,
    cpu: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from assay.cli import main

    cpu.setenv("ASSAY_CACHE_DIR", str(tmp_path / "cache"))
    cpu.setattr(native_probe, "child_command", SEGFAULT_WHILE_DECODING)
    target = f"gguf:{model_file}"
    argv = {
        "run": ["run", "--target", target, "--task", "arithmetic", "--limit", "1"],
        "serve": ["model", "serve", target, "--port", "1"],
    }[command]
    cpu.setattr(sys, "argv", ["assay", *argv, *(["--out", str(tmp_path)] * (command == "run"))])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("assay: error: llama.cpp runtime crashed (SIGSEGV) decoding tiny.gguf")
    assert "\n" not in err


def test_model_serve_names_the_model_without_its_options(
    model_file: Path, tmp_path: Path, cpu: pytest.MonkeyPatch
) -> None:
    from assay.targets._serve import ServeOptions, build_app

    cpu.setenv("ASSAY_CACHE_DIR", str(tmp_path))
    cpu.setattr(native_probe, "child_command", SEGFAULT_WHILE_DECODING)
    with pytest.raises(TargetUnavailable) as raised:
        build_app(ServeOptions(model=f"gguf:{model_file}?extra_bufts=on"))
    message = str(raised.value)
    assert message.startswith("llama.cpp runtime crashed (SIGSEGV) decoding tiny.gguf")
    assert f"try gguf:{model_file}?extra_bufts=off, or rebuild" in message
    assert "extra_bufts=on" not in message
