"""The code sandbox, attacked the way generated code might: real subprocesses, loopback only."""

from __future__ import annotations

import json
import math
import os
import pwd
import secrets
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cache, partial
from pathlib import Path

import pytest

from assay.sandbox import (
    SandboxError,
    SandboxLimits,
    SandboxResult,
    WeakSandboxWarning,
    _sandbox,
    run_python,
)
from helpers import subprocess_env, without_namespaces

Runner = Callable[..., SandboxResult]

# Written apart from the sandbox on purpose: can a process here make the namespaces (and the
# read-only mounts) the sandbox relies on? If so, the sandbox must be using them.
_NAMESPACE_PROBE = textwrap.dedent(
    """
    import ctypes, os, sys
    libc = ctypes.CDLL(None, use_errno=True)
    flags = 0x40000000 | 0x20000000 | 0x00020000  # CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWNS
    if os.geteuid() == 0:
        if libc.unshare(flags):
            sys.exit(1)
    else:
        uid, gid = os.geteuid(), os.getegid()
        if libc.unshare(flags | 0x10000000):  # CLONE_NEWUSER
            sys.exit(1)
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                           ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
    if libc.mount(None, b"/", None, 0x4000 | 0x40000, None):  # MS_REC | MS_PRIVATE
        sys.exit(2)
    if libc.mount(b"tmpfs", b"/tmp", b"tmpfs", 0, None):
        sys.exit(3)
    attr = (ctypes.c_uint64 * 4)(1, 0, 0, 0)  # mount_setattr(MOUNT_ATTR_RDONLY)
    if libc.syscall(442, -100, b"/tmp", 0, ctypes.byref(attr), 32):
        sys.exit(4)
    """
)


@cache
def kernel_allows_namespaces() -> bool:
    probe = subprocess.run(
        [sys.executable, "-I", "-c", _NAMESPACE_PROBE], capture_output=True, check=False
    )
    return probe.returncode == 0


@pytest.fixture
def isolated() -> None:
    """Tests of containment that only the namespace sandbox can promise."""
    if not kernel_allows_namespaces():
        pytest.skip("this kernel/container refuses namespaces: the sandbox is in fallback mode")


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0.2)
        yield server


@pytest.fixture
def udp_listener() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        server.settimeout(0.2)
        yield server


def assert_nothing_arrived(tcp: socket.socket, udp: socket.socket) -> None:
    with pytest.raises(TimeoutError):
        tcp.accept()
    with pytest.raises(TimeoutError):
        udp.recvfrom(64)


def live_processes(match: Callable[[str], bool]) -> list[int]:
    """Pids (not zombies) whose /proc entry satisfies `match`, given the pid directory."""
    found = []
    with os.scandir("/proc") as entries:
        for entry in entries:
            if entry.name.isdigit():
                try:
                    state = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()[0]
                    if state != "Z" and match(entry.path):
                        found.append(int(entry.name))
                except OSError:
                    pass
    return found


def has_cmdline_arg(arg: str) -> Callable[[str], bool]:
    return lambda proc: arg.encode() in Path(proc, "cmdline").read_bytes().split(b"\0")


def has_cwd(path: str) -> Callable[[str], bool]:
    return lambda proc: os.readlink(Path(proc, "cwd")) == path


# --------------------------------------------------------------------------------------------
# Ordinary programs


def test_normal_code_returns_stdout_and_zero() -> None:
    result = run_python("import os\nprint('hello', 6 * 7)\nprint(os.getpid())", timeout_s=10)
    assert result.returncode == 0
    assert result.stdout.splitlines()[0] == "hello 42"
    assert int(result.stdout.splitlines()[1]) != os.getpid()
    assert result.stderr == ""
    assert not result.timed_out and result.killed_by is None
    assert 0 < result.duration_s < 10


def test_exception_gives_nonzero_exit_and_traceback() -> None:
    result = run_python("def f():\n    return 1 / 0\nf()\n", timeout_s=10)
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "ZeroDivisionError: division by zero" in result.stderr
    assert not result.timed_out and result.killed_by is None


def test_exit_status_is_passed_through_and_host_survives() -> None:
    result = run_python("import sys\nsys.exit(3)", timeout_s=10)
    assert result.returncode == 3


def test_stdin_is_passed() -> None:
    code = "import sys\nlines = sys.stdin.read().split()\nprint(sum(map(int, lines)))"
    result = run_python(code, timeout_s=10, stdin="1 2\n3 4\n")
    assert result.stdout == "10\n"


def test_runs_in_a_fresh_temp_dir_that_is_removed() -> None:
    code = textwrap.dedent(
        """
        import os
        print(os.getcwd())
        print(sorted(os.listdir(".")))
        with open("scratch.txt", "w") as f:
            f.write("left behind?")
        """
    )
    first = run_python(code, timeout_s=10)
    second = run_python(code, timeout_s=10)
    (cwd_1, listing_1), (cwd_2, listing_2) = (
        first.stdout.splitlines(),
        second.stdout.splitlines(),
    )
    assert first.returncode == second.returncode == 0
    assert cwd_1 != cwd_2
    assert Path(cwd_1).name.startswith("assay-sandbox-")
    assert listing_1 == listing_2 == "['main.py']"  # the second run sees nothing of the first
    for cwd in (cwd_1, cwd_2):
        assert not Path(tempfile.gettempdir(), Path(cwd).name).exists()
        assert not Path(cwd).exists()


def test_environment_is_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = f"sk-test-{uuid.uuid4()}"
    monkeypatch.setenv("ASSAY_API_KEY", secret)
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    monkeypatch.setenv("PYTHONPATH", "/nonexistent-assay-test")
    code = textwrap.dedent(
        """
        import json, os, site, sys
        print(json.dumps({
            "environ": dict(os.environ),
            "cwd": os.getcwd(),
            "isolated": sys.flags.isolated,
            "user_site": site.ENABLE_USER_SITE,
            "path": sys.path,
        }))
        """
    )
    result = run_python(code, timeout_s=10)
    assert result.returncode == 0, result.stderr
    assert secret not in result.stdout
    seen = json.loads(result.stdout)
    assert set(seen["environ"]) == {
        "PATH",
        "HOME",
        "LANG",
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
    }
    assert seen["environ"]["HOME"] == seen["cwd"]
    assert seen["isolated"] == 1
    assert seen["user_site"] is False
    assert "/nonexistent-assay-test" not in seen["path"]


def test_host_processes_are_invisible(isolated: None, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = f"sk-test-{uuid.uuid4()}"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    # The environment block is copied at exec: a fresh process carries the secret.
    with subprocess.Popen(["sleep", "30"]) as holder:
        try:
            code = textwrap.dedent(
                f"""
                import os
                for pid in ({os.getpid()}, {holder.pid}):
                    try:
                        with open(f"/proc/{{pid}}/environ", "rb") as f:
                            print(f.read().decode(errors="replace"))
                    except OSError as exc:
                        print("refused", exc.strerror)
                print(sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
                """
            )
            result = run_python(code, timeout_s=10)
        finally:
            holder.kill()
    assert result.returncode == 0, result.stderr
    assert secret not in result.stdout
    assert max(json.loads(result.stdout.splitlines()[-1])) < 10  # a pid namespace of its own


# --------------------------------------------------------------------------------------------
# Network


def test_network_isolation_is_the_strongest_this_machine_allows() -> None:
    if kernel_allows_namespaces():
        assert run_python("pass", timeout_s=10).network_isolation == "netns"
        return
    with pytest.raises(SandboxError, match="--allow-weak-sandbox"):
        run_python("pass", timeout_s=10)
    with pytest.warns(WeakSandboxWarning, match="Python socket guard"):
        result = run_python("pass", timeout_s=10, allow_weak=True)
    assert result.network_isolation == "python-guard"


# Run under `without_namespaces()`: what the sandbox does where the kernel refuses namespaces.
_WEAK_MODE = """
import json, warnings
from assay.sandbox import SandboxError, namespaces_refused, run_python
seen = {"refused": namespaces_refused()}
try:
    run_python("print('ran')", 10)
    seen["default"] = "ran"
except SandboxError as exc:
    seen["default"] = str(exc)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    result = run_python("print('ran')", 10, allow_weak=True)
seen["isolation"], seen["stdout"] = result.network_isolation, result.stdout
seen["warnings"] = [[w.category.__name__, str(w.message)] for w in caught]
print(json.dumps(seen))
"""


def test_without_namespaces_the_weak_mode_is_refused_unless_allowed_then_warned() -> None:
    done = subprocess.run(
        [*without_namespaces(), sys.executable, "-c", _WEAK_MODE],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
        check=True,
    )
    seen = json.loads(done.stdout)
    assert "unshare: Operation not permitted" in seen["refused"]
    # By default: no code runs, and the one line says why and how to go on.
    assert "\n" not in seen["default"] and "--allow-weak-sandbox" in seen["default"]
    assert "Python socket guard" in seen["default"] and seen["refused"] in seen["default"]
    # Allowed: it runs under the guard, and says so.
    assert (seen["isolation"], seen["stdout"]) == ("python-guard", "ran\n")
    ((category, message),) = seen["warnings"]
    assert category == "WeakSandboxWarning" and seen["refused"] in message


NETWORK_ATTEMPTS = """
import _socket, socket
attempts = {{
    "create_connection": lambda: socket.create_connection(("127.0.0.1", {port}), timeout=2),
    "raw _socket": lambda: _socket.socket().connect(("127.0.0.1", {port})),
}}
for name, attempt in attempts.items():
    try:
        attempt()
        print(name, "CONNECTED")
    except OSError as exc:
        print(name, "blocked:", exc)
try:  # in a network namespace this "succeeds" into the sandbox's own loopback
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", {udp_port}))
    print("udp sent")
except OSError as exc:
    print("udp blocked:", exc)
"""


def network_attempts(tcp: socket.socket, udp: socket.socket) -> str:
    return NETWORK_ATTEMPTS.format(port=tcp.getsockname()[1], udp_port=udp.getsockname()[1])


def test_no_connection_to_a_listening_loopback_port(
    listener: socket.socket, udp_listener: socket.socket
) -> None:
    result = run_python(network_attempts(listener, udp_listener), timeout_s=10)
    assert result.returncode == 0, result.stderr
    assert "CONNECTED" not in result.stdout
    assert result.stdout.count(" blocked:") >= 2
    assert_nothing_arrived(listener, udp_listener)


def test_fallback_python_guard_blocks_sockets_but_not_socketpair(
    listener: socket.socket, udp_listener: socket.socket
) -> None:
    code = network_attempts(listener, udp_listener) + (
        "a, b = socket.socketpair()\na.sendall(b'local')\nprint(b.recv(5).decode())\n"
    )
    result = _sandbox._run(code, 10, SandboxLimits(), "", namespaces=False)
    assert result.network_isolation == "python-guard"
    assert result.returncode == 0, result.stderr
    assert "CONNECTED" not in result.stdout
    assert result.stdout.count(" blocked:") == 3
    assert result.stdout.rstrip().endswith("local")
    assert_nothing_arrived(listener, udp_listener)


# --------------------------------------------------------------------------------------------
# File system


def test_writes_outside_the_workdir_do_not_reach_the_host(isolated: None, tmp_path: Path) -> None:
    targets = [
        tmp_path / "escape.txt",
        Path(f"/tmp/assay-sandbox-escape-{uuid.uuid4()}"),
        Path(__file__).with_name(f"escape-{uuid.uuid4()}.txt"),
        Path(pwd.getpwuid(os.geteuid()).pw_dir) / f"escape-{uuid.uuid4()}.txt",
    ]
    code = textwrap.dedent(
        f"""
        for path in {[str(target) for target in targets]!r} + ["inside.txt"]:
            try:
                with open(path, "w") as f:
                    f.write("escaped")
                print("wrote", path)
            except OSError as exc:
                print("refused", path, exc.strerror)
        """
    )
    result = run_python(code, timeout_s=10)
    assert result.returncode == 0, result.stderr
    assert "wrote inside.txt" in result.stdout  # the working directory is writable
    for target in targets:
        assert not target.exists(), f"{target} was written from the sandbox"
    # Only the private /tmp accepts the write; it vanishes with the sandbox.
    assert f"wrote {targets[1]}" in result.stdout
    assert result.stdout.count("refused") == 3


def test_home_directory_is_hidden_except_the_interpreter(isolated: None) -> None:
    home = Path(pwd.getpwuid(os.geteuid()).pw_dir).resolve()
    code = f"import os, json\nprint(json.dumps(sorted(os.listdir({str(home)!r}))))"
    result = run_python(code, timeout_s=10)
    assert result.returncode == 0, result.stderr
    needed = {
        Path(path).relative_to(home).parts[0]
        for path in _sandbox._interpreter_paths(sys.executable)
        if Path(path).is_relative_to(home) and Path(path) != home
    }
    assert set(json.loads(result.stdout)) <= needed


def test_code_runs_unprivileged(isolated: None) -> None:
    code = "import os\nprint(os.getuid())\nprint(open('/proc/self/status').read())"
    result = run_python(code, timeout_s=10)
    uid, status = result.stdout.split("\n", 1)
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    if os.geteuid() == 0:
        assert int(uid) != 0
    assert int(fields["CapEff"], 16) == 0
    assert int(fields["CapPrm"], 16) == 0
    assert fields["NoNewPrivs"].strip() == "1"


def test_file_size_is_capped() -> None:
    code = textwrap.dedent(
        """
        import os
        try:
            with open("big.bin", "wb") as f:
                f.write(b"x" * (8 * 1024 * 1024))
        except OSError as exc:
            print(exc.strerror)
        print(os.path.getsize("big.bin"))
        """
    )
    result = run_python(code, timeout_s=10, limits=SandboxLimits(file_size_mb=2))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["File too large", str(2 * 1024 * 1024)]


def test_private_disk_is_capped(isolated: None) -> None:
    code = textwrap.dedent(
        """
        written = 0
        try:
            for i in range(100):
                with open(f"part{i}.bin", "wb") as f:
                    f.write(b"x" * (1024 * 1024))
                written += 1
        except OSError as exc:
            print(exc.strerror)
        print(written)
        """
    )
    result = run_python(code, timeout_s=10, limits=SandboxLimits(disk_mb=8))
    assert result.stdout.splitlines()[0] == "No space left on device"
    assert int(result.stdout.splitlines()[1]) < 8


# --------------------------------------------------------------------------------------------
# Time, memory, processes, output


def test_infinite_loop_times_out() -> None:
    started = time.monotonic()
    result = run_python("while True:\n    pass", timeout_s=1)
    elapsed = time.monotonic() - started
    assert result.timed_out
    assert result.killed_by == "timeout"
    assert result.returncode == -9
    assert 1 <= elapsed < 3


def test_sleeping_code_times_out_on_wall_clock() -> None:
    result = run_python("import time\ntime.sleep(60)", timeout_s=0.5)
    assert result.timed_out
    assert result.duration_s < 2.5


def test_memory_bomb_fails_in_the_child() -> None:
    code = "block = bytearray(4 * 1024 ** 3)\nprint('allocated')"
    result = run_python(code, timeout_s=10)
    assert result.returncode != 0
    assert "allocated" not in result.stdout
    assert "MemoryError" in result.stderr or result.killed_by is not None


def test_stdout_flood_is_capped() -> None:
    limits = SandboxLimits(output_bytes=64 * 1024)
    started = time.monotonic()
    result = run_python("while True:\n    print('x' * 1000)", timeout_s=10, limits=limits)
    assert time.monotonic() - started < 5  # stopped at the cap, not at the timeout
    assert result.killed_by == "output-limit"
    assert not result.timed_out
    assert len(result.stdout) == 64 * 1024
    assert set(result.stdout) <= {"x", "\n"}


GRANDCHILD = """
import os, signal
ready_r, ready_w = os.pipe()  # not inherited across exec: EOF means the grandchild exec'd
if os.fork() == 0:
    os.close(ready_r)
    os.setsid()  # leave the process group, so killing the group alone would miss it
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.execv("/bin/sleep", ["sleep", "{marker}"])
os.close(ready_w)
os.read(ready_r, 1)
print("grandchild running", flush=True)
while True:
    pass
"""


def check_no_grandchild_survives(run: Runner) -> None:
    marker = f"{600 + secrets.randbelow(10**6) / 10**6:.6f}"  # a sleep only this test runs
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(run, GRANDCHILD.format(marker=marker), 3)
        seen_running: list[int] = []
        deadline = time.monotonic() + 10
        while not seen_running and not future.done() and time.monotonic() < deadline:
            seen_running = live_processes(has_cmdline_arg(marker))
            time.sleep(0.02)
        result = future.result()
    assert seen_running, "the grandchild never showed up in /proc: the check would be vacuous"
    assert "grandchild running" in result.stdout
    assert result.timed_out
    assert live_processes(has_cmdline_arg(marker)) == []


def test_no_grandchild_survives_a_timeout(isolated: None) -> None:
    check_no_grandchild_survives(lambda code, timeout_s: run_python(code, timeout_s))


def test_fork_bomb_is_contained(isolated: None) -> None:
    code = "import os\nprint(os.getcwd(), flush=True)\nwhile True:\n    os.fork()"
    started = time.monotonic()
    result = run_python(code, timeout_s=3)
    assert time.monotonic() - started < 3 + 3
    workdir = result.stdout.splitlines()[0]
    assert workdir.startswith("/")
    assert result.returncode != 0
    assert live_processes(has_cwd(workdir)) == []
    host_still_forks = subprocess.run(["true"], check=False, timeout=10)
    assert host_still_forks.returncode == 0


# --------------------------------------------------------------------------------------------
# Fallback mode as root: no namespaces, but an unprivileged uid of its own


@cache
def unprivileged_interpreter() -> str | None:
    """A Python that an unprivileged uid can run (ours may live under a private home)."""
    for candidate in (sys.executable, "/usr/bin/python3", "/usr/local/bin/python3"):
        if os.path.exists(candidate) and _sandbox._reachable_by_others(candidate):
            return candidate
    return None


@pytest.fixture
def fallback_as_root() -> Runner:
    if os.geteuid() != 0:
        pytest.skip("dropping to a sandbox uid in fallback mode needs root")
    interpreter = unprivileged_interpreter()
    if interpreter is None:
        pytest.skip("no Python here is readable by an unprivileged uid")
    return partial(_fallback_run, interpreter=interpreter)


def _fallback_run(code: str, timeout_s: float, *, interpreter: str) -> SandboxResult:
    return _sandbox._run(
        code, timeout_s, SandboxLimits(), "", namespaces=False, interpreter=interpreter
    )


def test_fallback_as_root_drops_privileges(fallback_as_root: Runner, tmp_path: Path) -> None:
    target = tmp_path / "escape.txt"
    code = textwrap.dedent(
        f"""
        import os
        print(os.getuid())
        try:
            open({str(target)!r}, "w").write("escaped")
        except OSError as exc:
            print("refused", exc.strerror)
        """
    )
    result = fallback_as_root(code, 10)
    assert result.network_isolation == "python-guard"
    uid, refusal = result.stdout.splitlines()
    assert int(uid) != 0
    assert refusal == "refused Permission denied"
    assert not target.exists()


def test_fallback_as_root_leaves_no_grandchild(fallback_as_root: Runner) -> None:
    check_no_grandchild_survives(fallback_as_root)


# --------------------------------------------------------------------------------------------
# Arguments


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="timeout_s"):
        run_python("pass", timeout_s=0)
    with pytest.raises(ValueError, match="timeout_s"):
        run_python("pass", timeout_s=math.inf)
    with pytest.raises(ValueError, match="memory_mb"):
        SandboxLimits(memory_mb=0)
    assert SandboxLimits().cpu_seconds(2.5) == 4
    assert SandboxLimits(cpu_s=1.5).cpu_seconds(100) == 2


def test_interpreter_under_tmp_keeps_the_namespaces(isolated: None, tmp_path: Path) -> None:
    """A virtual environment under /tmp (a CI checkout) must still start inside the sandbox,
    whose /tmp is a fresh tmpfs: its directories are bound back, read-only."""
    import venv

    venv.create(tmp_path / "venv", system_site_packages=True, with_pip=False)
    python = tmp_path / "venv" / "bin" / "python"
    assert str(python).startswith("/tmp/")
    probe = textwrap.dedent(
        """
        import json, sys
        from assay.sandbox import run_python
        code = "import os, sys; print(os.getpid(), sys.prefix, os.listdir('/tmp'))"
        result = run_python(code, timeout_s=20)
        print(json.dumps([result.returncode, result.stdout, result.stderr]))
        """
    )
    # assay and its dependencies come from this environment's site-packages and source tree.
    paths = [p for p in sys.path if p]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    done = subprocess.run(
        [str(python), "-c", probe], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    returncode, stdout, stderr = json.loads(done.stdout.splitlines()[-1])
    assert returncode == 0, stderr
    pid, prefix, listing = stdout.split(" ", 2)
    assert int(pid) < 10  # in its own pid namespace, not the host's
    assert prefix == str(tmp_path / "venv")
    assert str(tmp_path.name) not in listing  # the host's /tmp stays hidden
