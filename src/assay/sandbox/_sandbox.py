"""Run generated code in a throwaway subprocess sandbox and report what it did.

The host never executes the code. It runs this file as a script (`python -I _sandbox.py PLAN`,
stdlib only, so it starts fast): the script isolates itself and runs the code in a grandchild.

Process tree and what each level does:

    host (run_python)      temp dir, scrubbed env, output caps, wall-clock timeout, kills the group
    └─ supervisor          new namespaces (net, mount, pid, ipc, uts; + user when not root),
       │                   read-only file system, private /tmp, home directory hidden
       └─ init (pid 1)     fresh /proc; when it exits the kernel kills everything left in the
          │                pid namespace, so no grandchild outlives a run
          └─ code          rlimits, unprivileged uid, no_new_privs, exec `python -I main.py`

Where Linux namespaces are refused (old kernel, container seccomp profile, no CAP_SYS_ADMIN) the
code could only run as the caller's own uid behind a Python-level socket guard, which a
determined program bypasses (subprocess, ctypes) and which hides neither the home directory nor
other processes. That weak mode is never chosen silently: `run_python` refuses it unless the
caller passes `allow_weak=True`, and then warns (`WeakSandboxWarning`); the result says which
isolation was used (`SandboxResult.network_isolation`).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import functools
import json
import math
import os
import resource
import secrets
import selectors
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Literal, NoReturn

NetworkIsolation = Literal["netns", "python-guard"]


_MIB = 1024 * 1024
_SCRIPT = "main.py"
_SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
# Numeric libraries otherwise start a thread per core, and threads count against max_processes.
_ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
# When the host is root, the code runs as a fresh uid from this range (no /etc/passwd entry):
# RLIMIT_NPROC counts per uid, and a uid of its own can signal nothing outside its run.
_SANDBOX_ID_BASE = 2_000_000_000
_SANDBOX_ID_SPAN = 1 << 24
_SETUP_FAILED_EXIT = 125
_KILL_GRACE_S = 2.0

# Linux constants (include/uapi/linux/sched.h, mount.h, prctl.h, sockios.h, if.h).
_CLONE_NEWNS = 0x00020000
_CLONE_NEWUTS = 0x04000000
_CLONE_NEWIPC = 0x08000000
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWPID = 0x20000000
_CLONE_NEWNET = 0x40000000
_MS_RDONLY = 0x1
_MS_NOSUID = 0x2
_MS_NODEV = 0x4
_MS_NOEXEC = 0x8
_MS_REMOUNT = 0x20
_MS_BIND = 0x1000
_MS_REC = 0x4000
_MS_PRIVATE = 0x40000
_SYS_MOUNT_SETATTR = 442  # the same number on x86-64 and arm64
_AT_FDCWD = -100
_AT_RECURSIVE = 0x8000
_MOUNT_ATTR_RDONLY = 0x1
_MOUNT_ATTR_NOSUID = 0x2
_PR_SET_PDEATHSIG = 1
_PR_SET_NO_NEW_PRIVS = 38
_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1

# Fallback only: runs before the code in the same interpreter and refuses non-Unix sockets.
# Weak by design (ctypes, subprocesses and C extensions go around it); namespaces are the real
# isolation and are used wherever the kernel allows them.
_PYTHON_GUARD = """\
import _socket, runpy, socket, sys
def _refuse(*args, **kwargs):
    raise PermissionError(1, "network access is disabled in the assay sandbox")
_socket_init = socket.socket.__init__
def _guarded_init(self, family=-1, type=-1, proto=-1, fileno=None):
    if family != socket.AF_UNIX:
        _refuse()
    _socket_init(self, family, type, proto, fileno)
_SocketType = _socket.socket
class _GuardedSocket(_SocketType):
    def __init__(self, family=-1, *args, **kwargs):
        if family != socket.AF_UNIX:
            _refuse()
        _SocketType.__init__(self, family, *args, **kwargs)
socket.socket.__init__ = _guarded_init
_socket.socket = _socket.SocketType = _GuardedSocket
socket.getaddrinfo = socket.gethostbyname = socket.create_connection = _refuse
sys.argv = [sys.argv[1]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""

_KILL_ALL_OF_MY_UID = "import os; os.kill(-1, 9)"


class SandboxError(RuntimeError):
    """The sandbox itself could not run the code (not: the code failed)."""


class WeakSandboxWarning(UserWarning):
    """Generated code runs without namespaces, behind only a Python socket guard."""


class _SetupFailed(SandboxError):
    """Isolation could not be set up; no user code ran."""


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits for one run. Sizes are per process and per file unless said otherwise."""

    memory_mb: int = 512
    """Address-space limit (RLIMIT_AS): a 4 GB allocation raises MemoryError."""
    cpu_s: float | None = None
    """CPU-time limit per process; None derives it from the timeout (ceil(timeout) + 1)."""
    file_size_mb: int = 16
    """Largest file the code may write (RLIMIT_FSIZE)."""
    disk_mb: int = 64
    """Size of each private tmpfs (working directory and /tmp, /var/tmp, /dev/shm)."""
    max_processes: int = 64
    """Processes and threads (RLIMIT_NPROC) for the sandbox's uid: stops fork bombs."""
    max_open_files: int = 256
    output_bytes: int = _MIB
    """Cap on each of stdout and stderr; the run is killed when a stream goes past it."""

    def __post_init__(self) -> None:
        for name in ("memory_mb", "file_size_mb", "disk_mb", "max_processes", "max_open_files"):
            if getattr(self, name) < 1:
                raise ValueError(f"SandboxLimits.{name} must be >= 1, got {getattr(self, name)}")
        if self.output_bytes < 0:
            raise ValueError(f"SandboxLimits.output_bytes must be >= 0, got {self.output_bytes}")
        if self.cpu_s is not None and not (self.cpu_s > 0 and math.isfinite(self.cpu_s)):
            raise ValueError(f"SandboxLimits.cpu_s must be a positive number, got {self.cpu_s}")

    def cpu_seconds(self, timeout_s: float) -> int:
        if self.cpu_s is not None:
            return max(1, math.ceil(self.cpu_s))
        return math.ceil(timeout_s) + 1


@dataclass(frozen=True)
class SandboxResult:
    """What one run did. `returncode` is negative (-N) when the code died of signal N."""

    returncode: int
    stdout: str
    stderr: str
    timed_out: bool
    duration_s: float
    killed_by: str | None
    """"timeout", "output-limit", "signal:N", or None when the code exited by itself."""
    network_isolation: NetworkIsolation
    """"netns": Linux namespaces (no network, read-only file system, private /tmp and pid
    space); "python-guard": namespaces were refused here and only Python's socket module is
    blocked — weak, see the module docstring."""


def run_python(
    code: str,
    timeout_s: float,
    *,
    limits: SandboxLimits | None = None,
    stdin: str = "",
    allow_weak: bool = False,
) -> SandboxResult:
    """Run `code` as a Python script in a sandboxed subprocess; never in this interpreter.

    Returns within about `timeout_s` plus a second or two whatever the code does. Raises
    `SandboxError` when the sandbox itself cannot start (and on any system but Linux), and
    where namespaces are refused unless `allow_weak` accepts the socket-guard mode.
    """
    if sys.platform != "linux":
        raise SandboxError(
            f"the code sandbox needs Linux (namespaces, /proc, prctl); this is {sys.platform}: "
            "run code-scoring tasks on Linux or in a Linux container"
        )
    return _run(
        code,
        timeout_s,
        limits or SandboxLimits(),
        stdin,
        namespaces=_namespaces_work(allow_weak=allow_weak),
    )


@functools.cache
def namespaces_refused() -> str | None:
    """Why the namespace sandbox cannot be set up here, in one line; None when it can.
    Tried once per process."""
    if sys.platform != "linux":
        return f"this is {sys.platform}, and the sandbox needs Linux"
    try:
        result = _run("", 30.0, SandboxLimits(), "", namespaces=True)
    except _SetupFailed as exc:
        return " ".join(str(exc).split())
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no message"])[-1]
        return f"the sandbox's trial run exited with status {result.returncode} ({last[:200]})"
    return None


def weak_sandbox_refusal(reason: str) -> str:
    """The one line that refuses the weak mode: why, and the two ways on."""
    return (
        f"Linux namespaces are refused here ({reason}), and without them the code would run as "
        "your own uid behind only a Python socket guard; allow them (unprivileged user "
        "namespaces, or CAP_SYS_ADMIN and an unconfined seccomp profile in a container) or "
        "pass --allow-weak-sandbox (RunSpec.allow_weak_sandbox) to accept the weak mode"
    )


def _namespaces_work(*, allow_weak: bool) -> bool:
    """Whether to use the namespace sandbox; the weak mode only when allowed, and never
    without a warning."""
    refused = namespaces_refused()
    if refused is None:
        return True
    if not allow_weak:
        raise SandboxError(weak_sandbox_refusal(refused))
    message = (
        f"assay sandbox: Linux namespaces are refused here ({refused}); generated code runs "
        "as this uid with only a Python socket guard (weak mode, allowed by the caller)"
    )
    warnings.warn(message, WeakSandboxWarning, stacklevel=3)
    return False


# ---------------------------------------------------------------------------------------------
# Host side


@dataclass(frozen=True)
class _Plan:
    """Everything the supervisor needs, passed to it as JSON on its command line."""

    host_workdir: str
    workdir: str
    namespaces: bool
    uid: int | None
    argv: list[str]
    env: dict[str, str]
    rlimits: list[list[int]]
    disk_mb: int
    homes: list[str]
    keep_paths: list[str]
    ctrl_fd: int
    host_pid: int


def _run(
    code: str,
    timeout_s: float,
    limits: SandboxLimits,
    stdin: str,
    *,
    namespaces: bool,
    interpreter: str | None = None,
) -> SandboxResult:
    if not (timeout_s > 0 and math.isfinite(timeout_s)):
        raise ValueError(f"timeout_s must be a positive number of seconds, got {timeout_s}")
    interpreter = interpreter or sys.executable
    host_workdir = tempfile.mkdtemp(prefix="assay-sandbox-")
    try:
        Path(host_workdir, _SCRIPT).write_text(code, encoding="utf-8")
        plan = _make_plan(host_workdir, timeout_s, limits, namespaces, interpreter)
        ctrl_read, ctrl_write = os.pipe()
        try:
            return _execute(replace(plan, ctrl_fd=ctrl_write), timeout_s, limits, stdin, ctrl_read)
        finally:
            os.close(ctrl_read)
    finally:
        _remove_tree(host_workdir)


def _make_plan(
    host_workdir: str,
    timeout_s: float,
    limits: SandboxLimits,
    namespaces: bool,
    interpreter: str,
) -> _Plan:
    workdir = os.path.join("/tmp", os.path.basename(host_workdir)) if namespaces else host_workdir
    uid: int | None = None
    if os.geteuid() == 0 and (namespaces or _reachable_by_others(interpreter)):
        uid = _SANDBOX_ID_BASE + secrets.randbelow(_SANDBOX_ID_SPAN)
    if namespaces:
        argv = [interpreter, "-I", _SCRIPT]
    else:
        argv = [interpreter, "-I", "-c", _PYTHON_GUARD, _SCRIPT]
    cpu_s = limits.cpu_seconds(timeout_s)
    rlimits = [
        [resource.RLIMIT_AS, limits.memory_mb * _MIB, limits.memory_mb * _MIB],
        [resource.RLIMIT_CPU, cpu_s, cpu_s + 1],
        [resource.RLIMIT_FSIZE, limits.file_size_mb * _MIB, limits.file_size_mb * _MIB],
        [resource.RLIMIT_NPROC, limits.max_processes, limits.max_processes],
        [resource.RLIMIT_NOFILE, limits.max_open_files, limits.max_open_files],
        [resource.RLIMIT_CORE, 0, 0],
    ]
    return _Plan(
        host_workdir=host_workdir,
        workdir=workdir,
        namespaces=namespaces,
        uid=uid,
        argv=argv,
        env={"PATH": _SAFE_PATH, "HOME": workdir, "LANG": "C.UTF-8", **_ONE_THREAD},
        rlimits=rlimits,
        disk_mb=limits.disk_mb,
        homes=_home_directories(),
        keep_paths=_interpreter_paths(interpreter),
        ctrl_fd=-1,  # set by _execute
        host_pid=os.getpid(),
    )


@dataclass
class _Capture:
    """Bytes read so far from the code's stdout and stderr, up to a cap each."""

    cap: int
    streams: dict[int, bytearray]
    overflow: bool = False

    def pump(self, selector: selectors.BaseSelector, until: float) -> bool:
        """Read until every stream is closed (True), `until` passes or a cap is hit (False)."""
        while selector.get_map():
            remaining = until - time.monotonic()
            if remaining <= 0:
                return False
            for key, _ in selector.select(remaining):
                data = os.read(key.fd, 65536)
                if not data:
                    selector.unregister(key.fd)
                    continue
                buffer = self.streams[key.fd]
                room = self.cap - len(buffer)
                buffer += data[:room]
                if len(data) > room:
                    self.overflow = True
                    return False
        return True


def _execute(
    plan: _Plan,
    timeout_s: float,
    limits: SandboxLimits,
    stdin: str,
    ctrl_read: int,
) -> SandboxResult:
    """Start the supervisor (which owns the write end `plan.ctrl_fd`, closed here) and watch it."""
    command = [sys.executable, "-I", os.path.abspath(__file__), json.dumps(asdict(plan))]
    try:
        with tempfile.TemporaryFile() as stdin_file:
            stdin_file.write(stdin.encode("utf-8"))
            stdin_file.seek(0)
            started = time.monotonic()
            process = subprocess.Popen(
                command,
                stdin=stdin_file,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(plan.ctrl_fd,),
                env=plan.env,
                cwd=plan.host_workdir,
                start_new_session=True,
            )
    finally:
        os.close(plan.ctrl_fd)
    assert process.stdout is not None and process.stderr is not None
    stdout_fd, stderr_fd = process.stdout.fileno(), process.stderr.fileno()
    capture = _Capture(limits.output_bytes, {stdout_fd: bytearray(), stderr_fd: bytearray()})
    timed_out = False
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(stdout_fd, selectors.EVENT_READ)
            selector.register(stderr_fd, selectors.EVENT_READ)
            finished = capture.pump(selector, started + timeout_s)
            timed_out = not finished and not capture.overflow and _running(process.pid)
            # Kill before reaping: an unreaped leader keeps its pid, so the group id is ours.
            _kill_group(process.pid)
            if plan.uid is not None and not plan.namespaces:
                _kill_all_of_uid(plan.uid, plan.argv[0])
            if not capture.overflow:
                capture.pump(selector, time.monotonic() + _KILL_GRACE_S)
    finally:
        _kill_group(process.pid)
        process.stdout.close()
        process.stderr.close()
        process.wait()
    duration_s = time.monotonic() - started
    messages = _read_messages(ctrl_read)
    for kind in ("setup_error", "exec_error"):
        if kind in messages:
            raise _SetupFailed(f"sandbox {kind.replace('_', ' ')}: {messages[kind]}")
    status = messages.get("status")
    returncode = (
        os.waitstatus_to_exitcode(status) if isinstance(status, int) else process.returncode
    )
    killed_by: str | None = None
    if timed_out:
        killed_by = "timeout"
    elif capture.overflow:
        killed_by = "output-limit"
    elif returncode < 0:
        killed_by = f"signal:{-returncode}"
    return SandboxResult(
        returncode=returncode,
        stdout=capture.streams[stdout_fd].decode("utf-8", errors="replace"),
        stderr=capture.streams[stderr_fd].decode("utf-8", errors="replace"),
        timed_out=timed_out,
        duration_s=duration_s,
        killed_by=killed_by,
        network_isolation="netns" if plan.namespaces else "python-guard",
    )


def _running(pid: int) -> bool:
    """Whether our child is still running, without reaping it."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
    except ChildProcessError:
        return False


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _kill_all_of_uid(uid: int, interpreter: str) -> None:
    """Fallback mode as root: kill whatever the sandbox uid left behind (setsid escapes).

    The killing is done as that uid (kill(-1) then reaches nothing else); /proc only tells
    whether another round is needed.
    """
    for _ in range(100):
        if not _live_processes_of(uid):
            return
        subprocess.run(
            [interpreter, "-I", "-S", "-c", _KILL_ALL_OF_MY_UID],
            user=uid,
            group=uid,
            extra_groups=[],
            env={},
            cwd="/",
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
            check=False,
        )


def _live_processes_of(uid: int) -> bool:
    with os.scandir("/proc") as entries:
        for entry in entries:
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                status = Path(entry.path, "status").read_text()
                fields = dict(line.partition(":")[::2] for line in status.splitlines())
                if fields["Uid"].split()[0] == str(uid) and fields["State"].split()[0] != "Z":
                    return True
    return False


def _read_messages(fd: int) -> dict[str, object]:
    os.set_blocking(fd, False)
    data = b""
    with contextlib.suppress(BlockingIOError):
        while chunk := os.read(fd, 65536):
            data += chunk
    messages: dict[str, object] = {}
    for line in data.decode("utf-8", errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            messages.update(json.loads(line))
    return messages


def _reachable_by_others(interpreter: str) -> bool:
    """Whether an unprivileged uid could start `interpreter` (and read our standard library)."""
    paths = [os.path.realpath(interpreter)]
    if paths[0] == os.path.realpath(sys.executable):
        paths.append(os.path.realpath(os.path.dirname(os.__file__)))
    for path in paths:
        parts = Path(path).parts
        for depth in range(1, len(parts)):
            if not os.stat(Path(*parts[:depth])).st_mode & stat.S_IXOTH:
                return False
        if not os.stat(path).st_mode & stat.S_IROTH:
            return False
    return True


def _home_directories() -> list[str]:
    import pwd

    homes = {os.environ.get("HOME", "")}
    with contextlib.suppress(KeyError):
        homes.add(pwd.getpwuid(os.geteuid()).pw_dir)
    real = {os.path.realpath(home) for home in homes if home}
    return sorted(home for home in real if home != "/" and os.path.isdir(home))


@functools.cache
def _interpreter_paths(interpreter: str) -> list[str]:
    """Directories `interpreter -I` needs (prefixes, sys.path); they stay visible in a hidden home.

    Asked of the interpreter itself: our own sys.path also holds the host's script directory or
    working directory, which may be a project with secrets in it.
    """
    query = "import json, sys; print(json.dumps([sys.prefix, sys.base_prefix, *sys.path]))"
    answer = subprocess.run(
        [interpreter, "-I", "-c", query],
        capture_output=True,
        text=True,
        env={"PATH": _SAFE_PATH},
        timeout=60,
        check=True,
    )
    candidates = [os.path.dirname(os.path.realpath(interpreter)), *json.loads(answer.stdout)]
    real = {os.path.realpath(path) for path in candidates if path}
    return sorted(path for path in real if os.path.isdir(path))


def _remove_tree(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)
    if os.path.lexists(path):  # the code made a directory unreadable (fallback mode)
        os.chmod(path, 0o700)
        for root, dirs, _ in os.walk(path):
            for name in dirs:
                with contextlib.suppress(OSError):
                    os.chmod(os.path.join(root, name), 0o700)
        shutil.rmtree(path, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Sandbox side: runs in the supervisor process (this file as a script), stdlib only.


def _supervise(plan: _Plan) -> NoReturn:
    os.set_inheritable(plan.ctrl_fd, False)  # init and code inherit it by fork, not by exec
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != plan.host_pid:
        os._exit(1)
    os.umask(0o022)
    try:
        code = Path(plan.host_workdir, _SCRIPT).read_bytes()
        if plan.namespaces:
            _isolate(plan)
        _prepare_workdir(plan, code)
    except Exception as exc:
        _report(plan.ctrl_fd, setup_error=f"{type(exc).__name__}: {exc}")
        os._exit(_SETUP_FAILED_EXIT)
    init_pid = os.fork()
    if init_pid == 0:
        _init(plan)
    os.waitpid(init_pid, 0)
    os._exit(0)


def _isolate(plan: _Plan) -> None:
    flags = _CLONE_NEWNS | _CLONE_NEWNET | _CLONE_NEWPID | _CLONE_NEWIPC | _CLONE_NEWUTS
    if os.geteuid() == 0:
        _check(_libc().unshare(flags), "unshare")
    else:
        # Unprivileged: a user namespace grants the rights to make the others; the code later
        # loses them when it execs as a non-zero uid.
        uid, gid = os.geteuid(), os.getegid()
        _check(_libc().unshare(flags | _CLONE_NEWUSER), "unshare")
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
        Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)
    _make_read_only("/")
    for home in plan.homes:
        # Keys, tokens, dotfiles: covered by an empty read-only tmpfs.
        _cover(home, plan.keep_paths, "size=1m,mode=755", read_only=True)
    tmpfs_options = f"size={plan.disk_mb}m,mode=1777"
    for path in ("/tmp", "/var/tmp", "/dev/shm"):
        if os.path.isdir(path):
            _cover(path, plan.keep_paths, tmpfs_options, read_only=False)
    _loopback_up()


def _make_read_only(path: str) -> None:
    attr = _MountAttr(attr_set=_MOUNT_ATTR_RDONLY | _MOUNT_ATTR_NOSUID)
    result = _libc().syscall(
        ctypes.c_long(_SYS_MOUNT_SETATTR),
        ctypes.c_int(_AT_FDCWD),
        path.encode(),
        ctypes.c_uint(_AT_RECURSIVE),
        ctypes.byref(attr),
        ctypes.c_size_t(ctypes.sizeof(attr)),
    )
    _check(result, "mount_setattr (needs Linux >= 5.12)")


def _cover(directory: str, keep_paths: list[str], options: str, *, read_only: bool) -> None:
    """Mount an empty tmpfs over `directory`, binding back the interpreter's directories that
    lie inside it (a virtual environment under /tmp or a home must still start Python)."""
    inside = [path for path in keep_paths if path.startswith(directory + os.sep)]
    if any(directory == path or directory.startswith(path + os.sep) for path in keep_paths):
        return  # the interpreter's own tree contains the directory: leave it
    outermost = [p for p in inside if not any(p.startswith(q + os.sep) for q in inside)]
    handles = [os.open(path, os.O_PATH | os.O_DIRECTORY) for path in outermost]
    try:
        _mount("tmpfs", directory, "tmpfs", _MS_NOSUID | _MS_NODEV, options)
        for path, handle in zip(outermost, handles, strict=True):
            os.makedirs(path, mode=0o755, exist_ok=True)
            _mount(f"/proc/self/fd/{handle}", path, None, _MS_BIND | _MS_REC)
        if read_only:
            flags = _MS_REMOUNT | _MS_BIND | _MS_RDONLY | _MS_NOSUID | _MS_NODEV
            _mount(None, directory, None, flags)
    finally:
        for handle in handles:
            os.close(handle)


def _loopback_up() -> None:
    """Bring up `lo` in the new network namespace: the code may talk to itself, nobody else."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH22x", b"lo", 0)
        (flags,) = struct.unpack_from("H", fcntl.ioctl(sock, _SIOCGIFFLAGS, request), 16)
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack("16sH22x", b"lo", flags | _IFF_UP))


def _prepare_workdir(plan: _Plan, code: bytes) -> None:
    os.makedirs(plan.workdir, mode=0o700, exist_ok=True)
    script = os.path.join(plan.workdir, _SCRIPT)
    Path(script).write_bytes(code)
    if plan.uid is not None:
        os.chown(plan.workdir, plan.uid, plan.uid)
        os.chown(script, plan.uid, plan.uid)
    os.chdir(plan.workdir)


def _init(plan: _Plan) -> NoReturn:
    """Pid 1 of the sandbox: starts the code, reaps orphans, reports the code's exit status."""
    try:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if plan.namespaces:
            _mount("proc", "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
        code_pid = os.fork()
        if code_pid == 0:
            _exec_code(plan)
        while True:
            pid, status = os.waitpid(-1, 0)
            if pid == code_pid:
                _report(plan.ctrl_fd, status=status)
                break
    except Exception as exc:
        _report(plan.ctrl_fd, setup_error=f"{type(exc).__name__}: {exc}")
    os._exit(0)


def _exec_code(plan: _Plan) -> NoReturn:
    try:
        for limit, soft, hard in plan.rlimits:
            resource.setrlimit(limit, (soft, hard))
        if plan.uid is not None:
            os.setgroups([])
            os.setgid(plan.uid)
            os.setuid(plan.uid)  # drops every capability
        _prctl(_PR_SET_NO_NEW_PRIVS, 1)
        os.execve(plan.argv[0], plan.argv, plan.env)
    except BaseException as exc:
        _report(plan.ctrl_fd, exec_error=f"{type(exc).__name__}: {exc}")
    os._exit(127)


def _report(fd: int, **message: object) -> None:
    with contextlib.suppress(OSError):
        os.write(fd, (json.dumps(message) + "\n").encode())


class _MountAttr(ctypes.Structure):
    _fields_ = [
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    ]


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(
    source: str | None, target: str, fstype: str | None, flags: int, options: str | None = None
) -> None:
    result = _libc().mount(
        source.encode() if source else None,
        target.encode(),
        fstype.encode() if fstype else None,
        ctypes.c_ulong(flags),
        options.encode() if options else None,
    )
    _check(result, f"mount {target}")


def _prctl(option: int, value: int) -> None:
    _check(_libc().prctl(option, ctypes.c_ulong(value), 0, 0, 0), "prctl")


if __name__ == "__main__":
    _supervise(_Plan(**json.loads(sys.argv[1])))
