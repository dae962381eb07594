# Boundary code sandbox runtime. Embedded in the `boundary-code` crate and run as
# `python3 -I -c <this file>`; the Rust side speaks to it over stdin/stdout.
#
# Three roles live in this one file, each a fork of the previous:
#   zygote    one per worker; imports everything once, then forks a session per job.
#             It never reads a job, so its memory never holds tests or expected outputs.
#   session   one per job; trusted. Reads the candidate frame, forks the candidate,
#             only then reads the judge frame (tests, expected values), drives the tests
#             and writes the verdict on the control pipe, which the candidate never holds.
#   candidate one per program run; untrusted. Confined (namespaces, rlimits, Landlock,
#             seccomp) before the model's code runs; it only ever sees call arguments or
#             stdin, and can only send back plain data that the session compares.
#
# Frames on every pipe: 4-byte little-endian length, then the payload (JSON on the control
# pipe, marshal on the call channel).
import base64
import builtins
import ctypes
import gc
import io
import json
import marshal
import os
import resource
import select
import signal
import struct
import sys
import time
import traceback

CONTROL_IN = 0
CONTROL_OUT = 1
CALL_IN = 3  # candidate side: requests from the session
CALL_OUT = 4  # candidate side: replies to the session
MAX_FRAME = 256 << 20

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def _check(ret, what):
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return ret


# ---------------------------------------------------------------- framing


def read_exact(fd, n):
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(fd):
    head = read_exact(fd, 4)
    if head is None:
        return None
    (n,) = struct.unpack("<I", head)
    if n > MAX_FRAME:
        raise ValueError(f"frame of {n} bytes exceeds the {MAX_FRAME} byte limit")
    return read_exact(fd, n)


def write_frame(fd, payload):
    data = struct.pack("<I", len(payload)) + payload
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def send_json(obj):
    write_frame(CONTROL_OUT, json.dumps(obj).encode())


def recv_json():
    frame = read_frame(CONTROL_IN)
    if frame is None:
        os._exit(3)
    return json.loads(frame)


# ---------------------------------------------------------------- worker set-up (zygote)

CONFIG = {}


def write_file(path, text):
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def setup_worker(cfg):
    """Enter a private user + network namespace for the whole worker, when allowed.

    Returns the names of the layers that are really in force."""
    active = []
    if cfg["userns"]:
        flags = CLONE_NEWUSER | (CLONE_NEWNET if cfg["netns"] else 0)
        uid, gid = os.getuid(), os.getgid()
        _check(_libc.unshare(flags), "unshare(user/net)")
        write_file("/proc/self/setgroups", "deny")
        write_file("/proc/self/uid_map", f"{uid} {uid} 1")
        write_file("/proc/self/gid_map", f"{gid} {gid} 1")
        active.append("user-namespace")
        if cfg["netns"]:
            active.append("network-namespace")
    return active


# ---------------------------------------------------------------- Landlock

LANDLOCK_CREATE_RULESET = 444
LANDLOCK_ADD_RULE = 445
LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_RULE_PATH_BENEATH = 1
FS_EXECUTE = 1 << 0
FS_WRITE_FILE = 1 << 1
FS_READ_FILE = 1 << 2
FS_READ_DIR = 1 << 3
FS_READ = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR


def landlock_fs_rights(abi):
    # Every access right the ABI knows; all of them are handled (denied unless allowed).
    rights = (1 << 13) - 1  # ABI 1: execute .. make_sym
    if abi >= 2:
        rights |= 1 << 13  # refer
    if abi >= 3:
        rights |= 1 << 14  # truncate
    if abi >= 5:
        rights |= 1 << 15  # ioctl_dev
    return rights


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def apply_landlock(abi, read_paths, write_paths):
    fs = landlock_fs_rights(abi)
    net = 0b11 if abi >= 4 else 0  # bind_tcp | connect_tcp, with no rule: all TCP denied
    scoped = 0b11 if abi >= 6 else 0  # abstract unix sockets | signals
    attr = _RulesetAttr(fs, net, scoped)
    size = 24 if abi >= 6 else (16 if abi >= 4 else 8)
    ruleset = _check(
        _libc.syscall(LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0),
        "landlock_create_ruleset",
    )
    try:
        for paths, access in ((read_paths, FS_READ), (write_paths, fs)):
            for path in paths:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue
                try:
                    rule_access = access
                    if not os.path.isdir(path):
                        # Rules on files may only carry file rights.
                        rule_access &= FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | (1 << 14) | (1 << 15)
                    rule = _PathBeneath(rule_access, fd)
                    _check(
                        _libc.syscall(
                            LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH, ctypes.byref(rule), 0
                        ),
                        f"landlock_add_rule({path})",
                    )
                finally:
                    os.close(fd)
        _check(_libc.syscall(LANDLOCK_RESTRICT_SELF, ruleset, 0), "landlock_restrict_self")
    finally:
        os.close(ruleset)


# ---------------------------------------------------------------- seccomp


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def apply_seccomp(program):
    buf = ctypes.create_string_buffer(program, len(program))
    prog = _SockFprog(len(program) // 8, ctypes.cast(buf, ctypes.c_void_p))
    _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0), "seccomp")


# ---------------------------------------------------------------- candidate confinement

PR_CAPBSET_DROP = 24
SYS_CAPSET = 126 if os.uname().machine == "x86_64" else 91


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_capabilities():
    """A candidate keeps no capability, not even inside its own user namespace (where
    root-owned files would otherwise be writable through CAP_DAC_OVERRIDE)."""
    for cap in range(64):
        _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    header = _CapHeader(0x20080522, 0)
    data = (_CapData * 2)()
    _check(_libc.syscall(SYS_CAPSET, ctypes.byref(header), ctypes.byref(data)), "capset")



def confine(limits, tmpdir, stdin_fd, out_fd, err_fd, call_fds):
    """Runs in the freshly forked candidate, before any model code."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    os.setsid()
    # Fixed descriptor layout; everything else (the control pipe above all) is closed.
    os.dup2(stdin_fd, 0)
    os.dup2(out_fd, 1)
    os.dup2(err_fd, 2)
    if call_fds is not None:
        req, rep = call_fds
        moved_req = os.dup(req)
        moved_rep = os.dup(rep)
        os.dup2(moved_req, CALL_IN)
        os.dup2(moved_rep, CALL_OUT)
        keep = CALL_OUT + 1
    else:
        keep = 3
    os.closerange(keep, 1 << 16)
    if call_fds is not None:
        os.set_inheritable(CALL_IN, False)
        os.set_inheritable(CALL_OUT, False)
    os.chdir(tmpdir)
    cpu = max(1, int(limits["cpu_total_s"] + 1))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    mem = limits["memory_bytes"]
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"], limits["file_bytes"]))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["open_files"], limits["open_files"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if CONFIG.get("nproc") is not None:
        n = CONFIG["nproc"]
        resource.setrlimit(resource.RLIMIT_NPROC, (n, n))
    os.environ.clear()
    os.environ.update(CONFIG["env"])
    os.environ["HOME"] = tmpdir
    os.environ["TMPDIR"] = tmpdir
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE, signal.SIGCHLD, signal.SIGALRM):
        signal.signal(sig, signal.SIG_DFL)
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    drop_capabilities()
    if CONFIG["landlock_abi"]:
        apply_landlock(CONFIG["landlock_abi"], CONFIG["read_paths"], [tmpdir] + CONFIG["rw_paths"])
    for program in CONFIG["seccomp"]:
        apply_seccomp(program)
    sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding="utf-8", errors="replace")
    sys.stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)), encoding="utf-8", errors="replace")
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="replace", write_through=True)


def flush_std():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


def exit_code_of(exc):
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        sys.stderr.write(f"{code}\n")
    except BaseException:
        pass
    return 1


def compile_program(code):
    return compile(code, "<solution>", "exec", dont_inherit=True)


def run_script(code):
    """stdio mode: the program runs as __main__ with the test input on stdin."""
    status = 0
    try:
        exec(compile_program(code), {"__name__": "__main__", "__builtins__": builtins})
    except SystemExit as exc:
        status = exit_code_of(exc)
    except BaseException:
        traceback.print_exc()
        status = 1
    flush_std()
    os._exit(status)


def to_plain(value, depth=0):
    """Converts a return value to exact builtin types, the only values the session accepts.

    Subclasses collapse to their base value, so an `int` subclass with a rigged `__eq__`
    arrives as the integer it really is."""
    if depth > 200:
        raise ValueError("return value nested deeper than 200 levels")
    t = type(value)
    if value is None or t in (bool, int, float, complex, str, bytes):
        return value
    if t in (list, tuple):
        items = [to_plain(v, depth + 1) for v in value]
        return items if t is list else tuple(items)
    if t is dict:
        return {to_plain(k, depth + 1): to_plain(v, depth + 1) for k, v in value.items()}
    if t in (set, frozenset):
        items = [to_plain(v, depth + 1) for v in value]
        return set(items) if t is set else frozenset(items)
    if type(t).__module__ == "builtins" and t.__module__ == "numpy" and hasattr(value, "item"):
        return to_plain(value.item(), depth + 1)
    for base in (bool, int, float, complex, str, bytes):
        if isinstance(value, base):
            return base(value)
    for base in (list, tuple, set, frozenset):
        if isinstance(value, base):
            return to_plain(base(value), depth)
    if isinstance(value, dict):
        return to_plain(dict(value), depth)
    raise TypeError(f"return value of type {t.__module__}.{t.__qualname__} cannot be checked")


def describe_exception(exc):
    return [type(exc).__name__, str(exc)[:2000]]


def serve_calls(code, exports, method_host):
    """call mode: define the program, announce its exports, then answer calls."""
    namespace = {"__name__": "__candidate__", "__builtins__": builtins}
    try:
        exec(compile_program(code), namespace)
        if method_host:
            host = namespace[method_host]()
        table = {}
        for name in exports:
            if method_host:
                table[name] = "function" if callable(getattr(host, name, None)) else "missing"
                continue
            if name not in namespace:
                table[name] = "missing"
                continue
            obj = namespace[name]
            if type(obj).__name__ == "module":
                table[name] = ["module", obj.__name__]
            elif callable(obj):
                table[name] = "function"
            else:
                table[name] = ["value", to_plain(obj)]
        hello = (0, table)
    except BaseException as exc:
        hello = (1, describe_exception(exc) + [traceback.format_exc(limit=-3)[-2000:]])
    flush_std()
    write_frame(CALL_OUT, marshal.dumps(hello))
    if hello[0]:
        os._exit(0)
    while True:
        frame = read_frame(CALL_IN)
        if frame is None:
            flush_std()
            os._exit(0)
        seq, name, args = marshal.loads(frame)
        target = getattr(host, name) if method_host else namespace[name]
        start = time.process_time()
        try:
            out = target(*args)
            cpu = time.process_time() - start
            try:
                # marshal itself refuses subclasses of builtin types: plain data goes
                # straight through, anything else is converted (or reported) below.
                payload = marshal.dumps((seq, 0, out, cpu))
            except ValueError:
                try:
                    payload = marshal.dumps((seq, 0, to_plain(out), cpu))
                except (TypeError, ValueError):
                    # Not data; the judge may still ask whether it is None (evalplus's
                    # not-None oracles for regex matches).
                    t = type(out)
                    payload = marshal.dumps((seq, 2, f"{t.__module__}.{t.__qualname__}", cpu))
        except BaseException as exc:  # SystemExit and KeyboardInterrupt included: all fail
            payload = marshal.dumps((seq, 1, describe_exception(exc), time.process_time() - start))
        if len(payload) > MAX_FRAME:
            message = f"return value of {len(payload)} bytes exceeds the {MAX_FRAME} byte limit"
            payload = marshal.dumps((seq, 1, ["OutputLimit", message], time.process_time() - start))
        flush_std()
        write_frame(CALL_OUT, payload)


# ---------------------------------------------------------------- spawning (session side)


class Child:
    """A confined candidate process, seen from the session."""

    def __init__(self, pid, reaper_pid, status_fd, out_fd, err_fd, call_fds, tmpdir):
        self.pid = pid
        self.reaper_pid = reaper_pid
        self.status_fd = status_fd
        self.out_fd = out_fd
        self.err_fd = err_fd
        self.call_fds = call_fds
        self.tmpdir = tmpdir
        self.clock = ((~pid) << 3) | 2  # CPUCLOCK_SCHED of the process, readable by its parent
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.stdout_total = 0
        self.killed = False

    def cpu(self):
        try:
            return time.clock_gettime(self.clock)
        except OSError:
            return 0.0

    def kill(self):
        if not self.killed:
            self.killed = True
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def make_tmpdir():
    base = CONFIG["tmp_root"]
    for _ in range(100):
        path = os.path.join(base, "run-" + os.urandom(8).hex())
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            continue
    raise OSError("could not create a private temporary directory")


def remove_tree(path):
    # The candidate may have left read-only directories behind; make them writable first.
    for root, dirs, files in os.walk(path, topdown=True):
        for d in dirs:
            p = os.path.join(root, d)
            if os.path.islink(p):
                continue  # never follow a link the candidate planted
            try:
                os.chmod(p, 0o700)
            except (OSError, ValueError):
                pass
    for root, dirs, files in os.walk(path, topdown=False):
        for f in files:
            try:
                os.unlink(os.path.join(root, f))
            except OSError:
                pass
        for d in dirs:
            p = os.path.join(root, d)
            try:
                if os.path.islink(p):
                    os.unlink(p)
                else:
                    os.rmdir(p)
            except OSError:
                pass
    try:
        os.rmdir(path)
    except OSError:
        pass


def become_candidate(limits, tmpdir, stdin_fd, out_w, err_w, call, close, run):
    """In a freshly forked child: confine, then run the candidate; never returns."""
    try:
        for fd in close:
            os.close(fd)
        confine(limits, tmpdir, stdin_fd, out_w, err_w, call)
    except BaseException as exc:
        os.write(2, f"sandbox set-up failed: {exc!r}\n".encode())
        os._exit(125)
    run()
    os._exit(0)


def spawn_direct(limits, run):
    """call mode: the session (which forks exactly one candidate) opens the PID namespace
    itself and is the candidate's parent: one fork per job fewer than `spawn`."""
    tmpdir = make_tmpdir()
    stdin_fd = os.open(os.devnull, os.O_RDONLY)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    req_r, req_w = os.pipe()
    rep_r, rep_w = os.pipe()
    if CONFIG["pidns"]:
        _check(_libc.unshare(CLONE_NEWPID), "unshare(pid)")
    pid = os.fork()
    if pid == 0:
        become_candidate(limits, tmpdir, stdin_fd, out_w, err_w, (req_r, rep_w), (out_r, err_r, req_w, rep_r), run)
    for fd in (stdin_fd, out_w, err_w, req_r, rep_w):
        os.close(fd)
    return Child(pid, None, None, out_r, err_r, (req_w, rep_r), tmpdir)


def spawn(limits, run, stdin_bytes):
    """stdio mode: forks reaper + candidate, one pair per test. The reaper opens a fresh
    PID namespace so that the candidate is its init: when the candidate dies, the kernel
    kills every process it left."""
    tmpdir = make_tmpdir()
    stdin_fd = os.memfd_create("stdin", 0)
    os.write(stdin_fd, stdin_bytes)
    os.lseek(stdin_fd, 0, os.SEEK_SET)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    status_r, status_w = os.pipe()
    reaper = os.fork()
    if reaper == 0:
        try:
            os.close(status_r)
            _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if CONFIG["pidns"]:
                _check(_libc.unshare(CLONE_NEWPID), "unshare(pid)")
            pid = os.fork()
            if pid == 0:
                become_candidate(limits, tmpdir, stdin_fd, out_w, err_w, None, (status_w,), run)
            # The reaper keeps nothing but its status pipe, so the candidate's pipes see
            # end-of-file as soon as the candidate's namespace is gone.
            for fd in (stdin_fd, out_r, out_w, err_r, err_w):
                os.close(fd)
            os.write(status_w, struct.pack("<i", pid))
            _, status, usage = os.wait4(pid, 0)
            os.write(status_w, struct.pack("<idd", status, usage.ru_utime, usage.ru_stime))
        except BaseException as exc:
            os.write(2, f"sandbox reaper failed: {exc!r}\n".encode())
        os._exit(0)
    for fd in (stdin_fd, out_w, err_w, status_w):
        os.close(fd)
    raw = read_exact(status_r, 4)
    if raw is None:
        os.waitpid(reaper, 0)
        raise OSError("the sandbox reaper died before starting the candidate")
    (pid,) = struct.unpack("<i", raw)
    return Child(pid, reaper, status_r, out_r, err_r, None, tmpdir)


def finish(child):
    """Waits for the candidate to end; returns (exit status, cpu seconds)."""
    if child.reaper_pid is None:
        _, status, usage = os.wait4(child.pid, 0)
        raw = struct.pack("<idd", status, usage.ru_utime, usage.ru_stime)
    else:
        raw = read_exact(child.status_fd, 20)
        os.waitpid(child.reaper_pid, 0)
    for fd in [child.status_fd, child.out_fd, child.err_fd] + list(child.call_fds or ()):
        if fd is None:
            continue
        try:
            os.close(fd)
        except OSError:
            pass
    remove_tree(child.tmpdir)
    if raw is None:
        return None, 0.0
    status, utime, stime = struct.unpack("<idd", raw)
    return status, utime + stime


def status_text(status):
    if status is None:
        return "lost"
    if os.WIFSIGNALED(status):
        return "signal " + signal.Signals(os.WTERMSIG(status)).name
    return f"exit {os.WEXITSTATUS(status)}"


def pump(child, fd, until_fd, deadline_wall, cpu_deadline):
    """Drains the candidate's stdout/stderr until `until_fd` is readable (or closed).

    Returns "ready", "timeout", "output" or "closed"."""
    watched = [child.out_fd, child.err_fd] if fd is None else [child.out_fd, child.err_fd, fd]
    poller = select.poll()
    for w in watched:
        poller.register(w, select.POLLIN | select.POLLHUP | select.POLLERR)
    open_fds = set(watched)
    cap = CONFIG["stdout_bytes"]
    while True:
        now = time.monotonic()
        cpu_left = cpu_deadline - child.cpu()
        wall_left = deadline_wall - now
        if cpu_left <= 0 or wall_left <= 0:
            return "timeout"
        events = poller.poll(max(1, int(min(cpu_left, wall_left) * 1000) + 1))
        for efd, ev in events:
            if efd == until_fd:
                return "ready"
            chunk = os.read(efd, 1 << 16) if ev & (select.POLLIN | select.POLLHUP) else b""
            if not chunk:
                poller.unregister(efd)
                open_fds.discard(efd)
                if efd == fd:
                    return "closed"
                if until_fd is None and not (open_fds - {fd}):
                    return "closed"
                continue
            if efd == child.out_fd:
                child.stdout_total += len(chunk)
                if child.stdout_total > cap:
                    return "output"
                child.stdout += chunk
            else:
                room = CONFIG["stderr_keep"] - len(child.stderr)
                if room > 0:
                    child.stderr += chunk[:room]
                child.stdout_total += len(chunk)
                if child.stdout_total > cap:
                    return "output"


# ---------------------------------------------------------------- judges (session side)


class CandidateFailure(Exception):
    """A call did not return a value: timeout, crash, exception or output flood."""

    def __init__(self, outcome, error_type, message):
        super().__init__(message)
        self.outcome = outcome
        self.error_type = error_type
        self.message = message


class CallChannel:
    def __init__(self, child, limits):
        self.child = child
        self.limits = limits
        self.seq = 0
        self.wall_factor = limits["wall_factor"]
        self.wall_slack = limits["wall_slack_s"]

    def _await(self, cpu_limit):
        child = self.child
        start_cpu = child.cpu()
        deadline = time.monotonic() + cpu_limit * self.wall_factor + self.wall_slack
        state = pump(child, child.call_fds[1], child.call_fds[1], deadline, start_cpu + cpu_limit)
        if state == "timeout":
            child.kill()
            raise CandidateFailure("timeout", "Timeout", f"no answer within {cpu_limit:.3g}s of CPU time")
        if state == "output":
            child.kill()
            raise CandidateFailure("output_limit", "OutputLimit", "the program wrote more output than allowed")
        try:
            frame = read_frame(child.call_fds[1])
        except ValueError as exc:
            child.kill()
            raise CandidateFailure("output_limit", "OutputLimit", str(exc))
        if frame is None:
            raise CandidateFailure("crashed", "Crashed", "the program ended before answering")
        return frame

    def hello(self, cpu_limit):
        hello = safe_loads(self._await(cpu_limit))
        if not (isinstance(hello, tuple) and len(hello) == 2):
            raise CandidateFailure("error", "ProtocolError", "the program sent a malformed greeting")
        ok, body = hello
        if ok != 0:
            etype, msg, tb = (list(body) + ["", "", ""])[:3] if isinstance(body, list) else ("Error", repr(body), "")
            raise CandidateFailure("memory" if etype == "MemoryError" else "error", str(etype), f"{msg}\n{tb}".strip())
        if not isinstance(body, dict):
            raise CandidateFailure("error", "ProtocolError", "the program sent a malformed export table")
        return body

    def call(self, name, args, cpu_limit, allow_opaque=False):
        self.seq += 1
        try:
            write_frame(self.child.call_fds[0], marshal.dumps((self.seq, name, tuple(args))))
        except (BrokenPipeError, OSError):
            raise CandidateFailure("crashed", "Crashed", "the program ended before the call")
        reply = safe_loads(self._await(cpu_limit))
        if not (isinstance(reply, tuple) and len(reply) == 4 and reply[0] == self.seq):
            raise CandidateFailure("error", "ProtocolError", "the program answered out of turn")
        _, failed, body, cpu = reply
        if failed == 2:
            if not allow_opaque:
                raise CandidateFailure("error", "TypeError", f"return value of type {body} cannot be checked")
            return Opaque(str(body)), cpu
        if failed:
            etype, msg = (body + ["", ""])[:2] if isinstance(body, list) else ("Error", repr(body))
            outcome = {"MemoryError": "memory", "OutputLimit": "output_limit"}.get(etype, "error")
            raise CandidateFailure(outcome, str(etype), str(msg))
        return body, cpu


class Opaque:
    """A return value that is not plain data (only its non-None-ness can be judged)."""

    def __init__(self, type_name):
        self.type_name = type_name

    def __repr__(self):
        return f"<{self.type_name} object>"


PLAIN = (type(None), bool, int, float, complex, str, bytes, list, tuple, dict, set, frozenset)


def safe_loads(frame):
    """marshal can also build code objects; only plain data is accepted from a candidate."""
    try:
        value = marshal.loads(frame)
    except (ValueError, EOFError, TypeError) as exc:
        raise CandidateFailure("error", "ProtocolError", f"unreadable answer: {exc}")
    if b"c" not in frame and b"\xe3" not in frame:
        return value  # no TYPE_CODE byte anywhere: nothing but plain data
    stack = [value]
    while stack:
        v = stack.pop()
        if type(v) not in PLAIN:
            raise CandidateFailure("error", "ProtocolError", f"unexpected {type(v).__name__} in an answer")
        if type(v) in (list, tuple, set, frozenset):
            stack.extend(v)
        elif type(v) is dict:
            stack.extend(v.keys())
            stack.extend(v.values())
    return value


def make_proxy(channel, name, budget):
    def proxy(*args, **kwargs):
        if kwargs:
            raise TypeError("keyword arguments are not supported by the sandbox call channel")
        value, _ = channel.call(name, args, budget.remaining())
        return value

    proxy.__name__ = name
    return proxy


class Budget:
    def __init__(self, seconds):
        self.seconds = seconds
        self.used = 0.0
        self.start = None

    def remaining(self):
        return max(0.001, self.seconds - self.used)


def proxied_namespace(channel, table, budget, base):
    ns = dict(base)
    for name, kind in table.items():
        if name in base:
            continue  # trusted definitions (prompt helpers, test set-up) win
        if kind == "function":
            ns[name] = make_proxy(channel, name, budget)
        elif isinstance(kind, list) and len(kind) == 2 and kind[0] == "module":
            # Only modules this trusted process already holds: a candidate must not be
            # able to make the judge import (and run) anything.
            module = sys.modules.get(str(kind[1]))
            if module is not None:
                ns[name] = module
        elif isinstance(kind, list) and len(kind) == 2 and kind[0] == "value":
            ns[name] = kind[1]
    return ns


def failing_line(exc_tb, source):
    """The line of the test source where an assertion or error surfaced."""
    lines = source.splitlines()
    line = None
    for frame, lineno in traceback.walk_tb(exc_tb):
        if frame.f_code.co_filename == "<test>":
            line = lineno
    if line is not None and 0 < line <= len(lines):
        return lines[line - 1].strip()
    return None


def outcome_record(name, outcome, error_type=None, message=None, wall=0.0, cpu=0.0):
    rec = {"name": name, "outcome": outcome, "wall_s": round(wall, 6), "cpu_s": round(cpu, 6)}
    if error_type:
        rec["error_type"] = error_type
    if message:
        rec["message"] = message[:2000]
    return rec


def run_check_judge(channel, table, judge, limits):
    """HumanEval style: the benchmark's check(candidate) runs here, against a proxy."""
    budget = Budget(limits["cpu_per_test_s"])
    base = {"__name__": "__test__", "__builtins__": builtins}
    exec(compile(judge.get("prelude", ""), "<prompt>", "exec"), base)
    ns = proxied_namespace(channel, table, budget, base)
    entry = judge["entry_point"]
    if table.get(entry) != "function":
        return [outcome_record("check", "error", "NameError", f"the program does not define {entry}()")]
    candidate = make_proxy(channel, entry, budget)
    ns[entry] = candidate
    source = judge["test"]
    start = time.monotonic()
    cpu0 = channel.child.cpu()
    try:
        exec(compile(source, "<test>", "exec"), ns)
        ns[judge.get("check_name", "check")](candidate)
    except CandidateFailure as exc:
        return [outcome_record("check", exc.outcome, exc.error_type, exc.message, time.monotonic() - start, channel.child.cpu() - cpu0)]
    except AssertionError as exc:
        where = failing_line(exc.__traceback__, source)
        return [outcome_record("check", "failed", "AssertionError", where or str(exc), time.monotonic() - start, channel.child.cpu() - cpu0)]
    except Exception as exc:
        where = failing_line(exc.__traceback__, source)
        msg = f"{type(exc).__name__}: {exc}" + (f" at `{where}`" if where else "")
        return [outcome_record("check", "failed", type(exc).__name__, msg, time.monotonic() - start, channel.child.cpu() - cpu0)]
    return [outcome_record("check", "passed", wall=time.monotonic() - start, cpu=channel.child.cpu() - cpu0)]


def run_asserts_judge(channel, table, judge, limits):
    """MBPP style: a list of assert statements plus optional set-up code."""
    results = []
    base = {"__name__": "__test__", "__builtins__": builtins}
    setup = judge.get("setup", "")
    if setup:
        exec(compile(setup, "<setup>", "exec"), base)
    stop = judge.get("stop_at_first_failure", True)
    for i, stmt in enumerate(judge["asserts"]):
        budget = Budget(limits["cpu_per_test_s"])
        ns = proxied_namespace(channel, table, budget, base)
        start = time.monotonic()
        cpu0 = channel.child.cpu()
        name = stmt.strip()[:200]
        try:
            exec(compile(stmt, "<test>", "exec"), ns)
            results.append(outcome_record(name, "passed", wall=time.monotonic() - start, cpu=channel.child.cpu() - cpu0))
            continue
        except CandidateFailure as exc:
            results.append(outcome_record(name, exc.outcome, exc.error_type, exc.message, time.monotonic() - start))
            if exc.outcome in ("timeout", "crashed", "output_limit"):
                break
        except AssertionError:
            results.append(outcome_record(name, "failed", "AssertionError", name, time.monotonic() - start))
        except Exception as exc:
            results.append(outcome_record(name, "failed", type(exc).__name__, f"{type(exc).__name__}: {exc}", time.monotonic() - start))
        if stop:
            break
    return results


# evalplus semantics: the expected value comes from the reference solution; floats are
# compared with a tolerance; a few tasks have their own oracle.
def is_floats(x):
    if isinstance(x, float):
        return True
    if isinstance(x, (list, tuple)) and x:
        return all(isinstance(i, float) for i in x)
    return False


def _flatten_numbers(x, out):
    if isinstance(x, (list, tuple)):
        for item in x:
            _flatten_numbers(item, out)
        return
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError("not numeric")
    out.append(float(x))


def _shape(x):
    if isinstance(x, (list, tuple)):
        return (len(x),) + (_shape(x[0]) if x else ())
    return ()


def allclose(out, exp, atol, rtol=1e-7):
    """numpy.allclose for the nested lists and numbers evalplus compares."""
    try:
        if _shape(out) != _shape(exp) and _shape(out) != () and _shape(exp) != ():
            return False
        a, b = [], []
        _flatten_numbers(out, a)
        _flatten_numbers(exp, b)
    except (TypeError, OverflowError):
        return False
    if len(a) == 1 and len(b) > 1:
        a = a * len(b)
    if len(b) == 1 and len(a) > 1:
        b = b * len(a)
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x != x or y != y:
            return False
        if x == y:
            continue
        if abs(x - y) > atol + rtol * abs(y):
            return False
    return True


def _poly(xs, x):
    import math

    return sum(coeff * math.pow(x, i) for i, coeff in enumerate(xs))


def _surface_area(base_edge, height):
    import math

    slant = math.sqrt((base_edge / 2) ** 2 + height**2)
    return round(base_edge**2 + 4 * (base_edge * slant) / 2)


def _digit_distance(a, b):
    sa, sb = str(a), str(b)
    width = max(len(sa), len(sb))
    return sum(abs(int(x) - int(y)) for x, y in zip(sa.zfill(width), sb.zfill(width)))


SET_EQUAL_TASKS = {"similar_elements", "find_char_long", "common_in_nested_lists", "extract_singly",
                   "larg_nnum", "intersection_array", "find_dissimilar", "Diff"}
NOT_NONE_TASKS = {"check_str", "text_match_three", "text_starta_endb"}


def evalplus_matches(dataset, entry, inp, out, exp, atol):
    exact = out == exp
    if dataset == "mbpp":
        if entry == "are_equivalent":
            exact = True
        elif entry == "sum_div":
            exact = exact or out == 0
        elif entry == "surface_Area":
            exact = exact or abs(out - _surface_area(*inp)) <= atol
        elif entry == "digit_distance_nums":
            exact = exact or out == _digit_distance(*inp)
        elif entry in SET_EQUAL_TASKS:
            exact = set(out) == set(exp)
        elif entry in NOT_NONE_TASKS:
            exact = (out == exp) if isinstance(out, bool) else (exp == (out is not None))
    if dataset == "humaneval" and entry == "find_zero":
        return abs(_poly(*inp, out)) <= atol
    if atol == 0 and is_floats(exp):
        atol = 1e-6
    if not exact and atol != 0:
        if type(out) is not type(exp):
            return False
        if isinstance(exp, (list, tuple)) and len(out) != len(exp):
            return False
        return allclose(out, exp, atol)
    return bool(exact)


def lcb_matches(out, exp):
    if isinstance(out, tuple):
        out = list(out)
    return out == exp


def _tuples(x):
    return tuple(_tuples(i) for i in x) if isinstance(x, list) else x


def deserialize_mbpp(task_number, inputs):
    """MBPP+ stores tuples and sets as JSON lists; evalplus restores them per task."""
    n = task_number
    if n in (2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579, 596, 616, 630, 726, 740, 744, 809):
        return [[tuple(a) for a in inp] for inp in inputs]
    if n in (63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780):
        return [[[tuple(x) for x in a] for a in inp] for inp in inputs]
    if n in (75, 413, 444, 753):
        return [[[tuple(x) for x in inp[0]]] + [inp[1]] for inp in inputs]
    if n in (106, 750):
        return [[inp[0]] + [tuple(inp[1])] for inp in inputs]
    if n == 115:
        return [[[set(i) if isinstance(i, list) and len(i) else {} for i in inp[0]]] for inp in inputs]
    if n == 124:
        return [(float(inp[0]), complex(inp[1])) for inp in inputs]
    if n in (250, 405, 446, 617, 720, 763, 808):
        return [[tuple(inp[0])] + [inp[1]] for inp in inputs]
    if n in (259, 401, 445):
        return [[tuple(tuple(x) for x in a) for a in inp] for inp in inputs]
    if n == 278:
        return [[tuple(tuple(i) if isinstance(i, list) else i for i in inp[0])] for inp in inputs]
    if n == 307:
        return [[tuple(inp[0])] + [inp[1], inp[2]] for inp in inputs]
    if n == 722:
        return [[{k: tuple(v) for k, v in inp[0].items()}] + inp[1:] for inp in inputs]
    if n == 252:
        return [[complex(inp[0])] for inp in inputs]
    if n in (580, 615, 791):
        return [_tuples(inp) for inp in inputs]
    return inputs


def load_inputs(judge):
    inputs = json.loads(judge["inputs_json"])
    if judge.get("mbpp_task") is not None:
        inputs = deserialize_mbpp(judge["mbpp_task"], inputs)
    if judge.get("lcb_lines"):
        inputs = [[json.loads(line) for line in case.split("\n")] for case in inputs]
    return inputs


def run_io_judge(channel, table, judge, limits):
    """Input/output pairs: evalplus (HumanEval+, MBPP+) and LiveCodeBench functional tests."""
    entry = judge["entry_point"]
    if table.get(entry) != "function":
        return [outcome_record("load", "error", "NameError", f"the program does not define {entry}()")]
    inputs = load_inputs(judge)
    expected = None
    if judge.get("expected_marshal") is not None:
        expected = [marshal.loads(base64.b64decode(v)) for v in judge["expected_marshal"]]
        if judge["compare"] == "evalplus:mbpp" and entry in NOT_NONE_TASKS:
            expected = [e is not None for e in expected]
    elif judge.get("expected_json") is not None:
        expected = [json.loads(e) for e in judge["expected_json"]]
    limits_per = judge["cpu_limits_s"]
    style = judge["compare"]
    names = judge.get("names") or [f"input {i}" for i in range(len(inputs))]
    stop = judge.get("stop_at_first_failure", True)
    results = []
    for i, inp in enumerate(inputs):
        start = time.monotonic()
        try:
            out, cpu = channel.call(entry, inp, limits_per[i], allow_opaque=True)
        except CandidateFailure as exc:
            results.append(outcome_record(names[i], exc.outcome, exc.error_type, exc.message, time.monotonic() - start))
            if stop or exc.outcome in ("timeout", "crashed", "output_limit"):
                break
            continue
        wall = time.monotonic() - start
        if isinstance(out, Opaque):
            if judge.get("mbpp_task") is not None and entry in NOT_NONE_TASKS:
                out = True if style == "record" else out
            else:
                results.append(outcome_record(names[i], "error", "TypeError", f"return value of type {out.type_name} cannot be checked", wall, cpu))
                if stop:
                    break
                continue
        if style == "record":
            results.append({"name": names[i], "outcome": "passed", "cpu_s": cpu, "wall_s": wall,
                            "value": base64.b64encode(marshal.dumps(out)).decode()})
            continue
        try:
            if style == "lcb":
                ok = lcb_matches(out, expected[i])
            else:
                ok = evalplus_matches(style.split(":")[1], entry, inp, out, expected[i], judge.get("atol", 0))
        except Exception:
            ok = False
        if ok:
            results.append(outcome_record(names[i], "passed", wall=wall, cpu=cpu))
            continue
        shown = repr(out)
        results.append(outcome_record(names[i], "failed", "WrongAnswer",
                                      f"input {truncate(repr(inp))}: got {truncate(shown)}, expected {truncate(repr(expected[i]))}", wall, cpu))
        if stop:
            break
    return results


def truncate(s, n=300):
    return s if len(s) <= n else s[: n // 2] + " ... " + s[-n // 2 :]


def run_call_session(spec, limits):
    child = spawn_direct(limits, lambda: serve_calls(spec["code"], spec["exports"], spec.get("method_host")))
    judge = recv_json()  # read only now: the candidate's memory never held the tests
    channel = CallChannel(child, limits)
    started = time.monotonic()
    try:
        table = channel.hello(limits["load_cpu_s"])
        kind = judge["kind"]
        if kind == "check":
            tests = run_check_judge(channel, table, judge, limits)
        elif kind == "asserts":
            tests = run_asserts_judge(channel, table, judge, limits)
        else:
            tests = run_io_judge(channel, table, judge, limits)
    except CandidateFailure as exc:
        tests = [outcome_record("load", exc.outcome, exc.error_type, exc.message)]
    try:
        os.close(child.call_fds[0])  # tell the candidate to finish
    except OSError:
        pass
    grace = time.monotonic() + 1.0
    pump(child, None, None, grace, child.cpu() + 1.0)
    child.kill()
    status, cpu = finish(child)
    return {
        "op": "result",
        "tests": tests,
        "status": status_text(status),
        "cpu_s": round(cpu, 6),
        "wall_s": round(time.monotonic() - started, 6),
        "stdout": bytes(child.stdout[: CONFIG["stderr_keep"]]).decode("utf-8", "replace"),
        "stderr": bytes(child.stderr).decode("utf-8", "replace"),
    }


def run_stdio_session(spec, limits):
    judge = recv_json()
    code = spec["code"]
    tests = []
    cpu_total = 0.0
    started = time.monotonic()
    stderr = ""
    for i, case in enumerate(judge["stdin"]):
        cpu_limit = judge["cpu_limits_s"][i]
        per = dict(limits, cpu_total_s=cpu_limit)
        start = time.monotonic()
        child = spawn(per, lambda: run_script(code), case.encode())
        state = pump(child, None, None, start + cpu_limit * limits["wall_factor"] + limits["wall_slack_s"], child.cpu() + cpu_limit)
        if state in ("timeout", "output"):
            child.kill()
        status, cpu = finish(child)
        cpu_total += cpu
        wall = time.monotonic() - start
        stderr = bytes(child.stderr).decode("utf-8", "replace")
        rec = {"name": f"test {i}", "wall_s": round(wall, 6), "cpu_s": round(cpu, 6), "status": status_text(status)}
        if state == "timeout" or (status is not None and os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGXCPU, signal.SIGKILL) and state != "output"):
            rec.update(outcome="timeout", error_type="Timeout", message=f"no exit within {cpu_limit:.3g}s of CPU time")
        elif state == "output":
            rec.update(outcome="output_limit", error_type="OutputLimit", message="the program wrote more output than allowed")
        elif status is None or status != 0:
            etype = "MemoryError" if "MemoryError" in stderr else "RuntimeError"
            rec.update(outcome="memory" if etype == "MemoryError" else "error", error_type=etype,
                       message=(status_text(status) + ": " + stderr[-1500:]).strip())
        else:
            rec.update(outcome="ran", stdout=bytes(child.stdout).decode("utf-8", "replace"))
        tests.append(rec)
        if rec["outcome"] != "ran" and judge.get("stop_at_first_failure", True):
            break
    return {"op": "result", "tests": tests, "status": "exit 0", "cpu_s": round(cpu_total, 6),
            "wall_s": round(time.monotonic() - started, 6), "stdout": "", "stderr": stderr[-CONFIG["stderr_keep"]:]}


def session():
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    spec = recv_json()
    limits = spec["limits"]
    try:
        if spec["mode"] == "stdio":
            result = run_stdio_session(spec, limits)
        else:
            result = run_call_session(spec, limits)
    except Exception as exc:
        result = {"op": "result", "harness_error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()[-3000:]}
    send_json(result)
    os._exit(0)


def main():
    global CONFIG
    cfg = recv_json()
    CONFIG = cfg
    CONFIG["seccomp"] = [base64.b64decode(p) for p in cfg.get("seccomp", [])]
    active = []
    try:
        active = setup_worker(cfg)
    except OSError as exc:
        send_json({"op": "failed", "error": str(exc)})
        os._exit(2)
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    for name in cfg.get("preload", []):
        try:
            __import__(name)
        except Exception:
            pass
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    # Objects that exist now are shared by every fork; keeping the collector off them
    # avoids copying their pages in each session and candidate.
    gc.collect()
    gc.freeze()
    send_json({"op": "ready", "active": active, "pid": os.getpid()})
    while True:
        select.select([CONTROL_IN], [], [])
        pid = os.fork()
        if pid == 0:
            session()
        _, status = os.waitpid(pid, 0)
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 3:
            os._exit(0)  # the control pipe closed: Boundary has gone
        send_json({"op": "reaped", "status": status})


main()
