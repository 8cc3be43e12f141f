"""Confining a student process: namespaces, mounts, user id, capabilities, seccomp, limits.

Used by ``worker.py`` on the student side of the boundary; imports nothing from the
``autograder`` package (the student process loads this file from a copy outside the course).

Two steps, in two processes:

- :func:`enter_keeper_namespaces` runs in the *keeper* (one per student, forked from the
  zygote). It unshares mount, PID, network, IPC and UTS namespaces (plus a user namespace
  when the grader is not the real root), makes every mount private, lays out the file
  system (read-only root where asked, a private size-capped ``/tmp`` and ``/dev/shm``,
  hidden folders, the interpreter bound back, masked files) and checks from inside that the
  hidden folders are empty.
- :func:`confine_student` runs in the *student* (PID 1 of the keeper's PID namespace). It
  mounts a ``/proc`` of its own, leaves the real root's user id for ``student_uid`` where the
  grader is root, enters one more user and mount namespace (so every mount it sees was made
  by a more privileged namespace and is locked for it), drops every capability (bounding
  and ambient sets included), sets ``no_new_privs`` and installs a seccomp filter.

Both fail closed: a step that does not take raises :class:`ConfineError`, and the student
process is not started.
"""

from __future__ import annotations

import ctypes
import os
import platform
import resource
import signal
import struct
from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
NAMESPACE_FLAGS = (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER
                   | CLONE_NEWPID | CLONE_NEWNET)

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_RELATIME = 1 << 21

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_SECCOMP = 22
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
SECCOMP_MODE_FILTER = 2
CAP_VERSION_3 = 0x20080522

INNER_UID = 1000  # the student's own user id inside its innermost user namespace
HIDE_SIZE = "64k"
WORK_DIR = "/tmp/work"  # the student's working folder (and HOME), in its private /tmp


class ConfineError(Exception):
    """A confinement step did not take; the student process must not start."""


def libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        raise ConfineError(f"{what}: errno {ctypes.get_errno()}")


def is_real_root() -> bool:
    """Whether this process is uid 0 of the machine's own user namespace (not of a child one)."""
    if os.geteuid() != 0:
        return False
    try:
        with open("/proc/self/uid_map") as f:
            return f.read().split() == ["0", "0", "4294967295"]
    except OSError:
        return False


def _map_ids(inside: int, outside_uid: int, outside_gid: int) -> None:
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"{inside} {outside_uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"{inside} {outside_gid} 1")


# --- the keeper ------------------------------------------------------------------------------

def enter_keeper_namespaces(settings: dict[str, Any]) -> None:
    """Unshare the namespaces and lay out the file system (raises :class:`ConfineError` if a step fails).

    ``settings["mounts"]`` is an ordered list of ``("hide", path)`` (an empty read-only tmpfs
    over it), ``("reveal", path)`` (the original folder bound back read-only) and
    ``("mask", path)`` (``/dev/null`` over a file), shallow paths first, applied after a fresh
    ``/tmp`` and ``/dev/shm``.
    """
    lib = libc()
    os.umask(0o022)  # folders made for reveals must be traversable by an unprivileged student
    root = is_real_root()
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    if not root:
        flags |= CLONE_NEWUSER
    _check(lib.unshare(flags), "unshare")
    if not root:
        _map_ids(0, uid, gid)
    _check(lib.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make mounts private")
    mounts = [(str(kind), str(path)) for kind, path in settings.get("mounts", [])]
    # folders to bind back, opened in this mount namespace before anything covers them
    keep = {p: os.open(p, os.O_PATH) for kind, p in mounts if kind == "reveal" and os.path.isdir(p)}
    if settings.get("readonly_root"):
        _remount_readonly(lib)
    tmp_mb = int(settings.get("tmp_mb", 256))
    for path, size in (("/tmp", tmp_mb), ("/dev/shm", min(tmp_mb, 64))):
        if os.path.isdir(path):
            opts = f"size={size}m,nr_inodes=65536,mode=1777".encode()
            _check(lib.mount(b"tmpfs", path.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, opts), f"tmpfs {path}")
    hidden: list[str] = []
    for kind, path in mounts:
        if kind == "hide" and os.path.isdir(path):
            _check(lib.mount(b"tmpfs", path.encode(), b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                             f"size={HIDE_SIZE},mode=755".encode()), f"hide {path}")
            hidden.append(path)
        elif kind == "reveal" and path in keep:
            os.makedirs(path, exist_ok=True)
            _check(lib.mount(f"/proc/self/fd/{keep[path]}".encode(), path.encode(), None, MS_BIND | MS_REC, None),
                   f"bind {path}")
            _check(lib.mount(None, path.encode(), None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, None),
                   f"read-only {path}")
        elif kind == "mask" and os.path.isfile(path):
            _check(lib.mount(b"/dev/null", path.encode(), None, MS_BIND, None), f"mask {path}")
    for fd in keep.values():
        os.close(fd)
    # the hiding tmpfs themselves read-only (the folders made for reveals exist by now)
    for path in hidden:
        _check(lib.mount(None, path.encode(), None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV
                         | MS_NOEXEC, None), f"read-only hide {path}")
    for kind, path in mounts:
        if kind == "hide" and os.path.isdir(path):
            revealed = [r for k, r in mounts if k == "reveal" and r.startswith(path.rstrip("/") + "/")]
            extra = [e for e in os.listdir(path) if not any(r.startswith(os.path.join(path, e)) for r in revealed)]
            if extra:
                raise ConfineError(f"{path} is still visible")
    os.makedirs(WORK_DIR, exist_ok=True)
    if root:
        os.chown(WORK_DIR, int(settings["student_uid"]), int(settings["student_uid"]))
    os.chmod(WORK_DIR, 0o700)


def _remount_readonly(lib: Any) -> None:
    """Make every mount read-only in this (private) mount namespace."""
    flag_bits = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC, "relatime": MS_RELATIME,
                 "noatime": MS_NOATIME, "nodiratime": MS_NODIRATIME}
    with open("/proc/self/mountinfo") as f:
        rows = [line.split() for line in f]
    for row in rows:
        mountpoint, options = row[4], row[5].split(",")
        flags = MS_BIND | MS_REMOUNT | MS_RDONLY
        for opt in options:
            flags |= flag_bits.get(opt, 0)
        lib.mount(None, mountpoint.encode(), None, flags, None)
    with open("/proc/self/mountinfo") as f:
        top = {row[4]: row[5].split(",") for row in (line.split() for line in f)}  # the last mount wins
    writable = [path for path, options in top.items() if "rw" in options]
    if writable:
        raise ConfineError(f"could not make {writable[0]} read-only")


# --- the student -----------------------------------------------------------------------------

def confine_student(settings: dict[str, Any]) -> None:
    """Make this process (PID 1 of its namespace) powerless; see the module docstring."""
    lib = libc()
    _check(lib.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "PR_SET_PDEATHSIG")
    # a /proc of this PID namespace only; where that is refused, an empty one (fail closed)
    if lib.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None) != 0:
        _check(lib.mount(b"tmpfs", b"/proc", b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, b"size=4k"),
               "empty /proc")
    if is_real_root():
        uid = int(settings["student_uid"])
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        # changing uid made this process non-dumpable, and so its /proc/self files root's; it may
        # write its own uid_map below. (Other students share this uid but not the PID namespace.)
        _check(lib.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), "PR_SET_DUMPABLE")
    outer_uid, outer_gid = os.getuid(), os.getgid()
    # one more user and mount namespace: every mount is now locked (made by a more privileged one)
    _check(lib.unshare(CLONE_NEWUSER | CLONE_NEWNS), "unshare (lock mounts)")
    _map_ids(INNER_UID, outer_uid, outer_gid)
    last = _last_cap()
    for cap in range(last + 1):
        _check(lib.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), f"drop capability {cap}")
    _check(lib.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient capabilities")
    os.setresgid(INNER_UID, INNER_UID, INNER_UID)
    os.setresuid(INNER_UID, INNER_UID, INNER_UID)  # leaving uid 0 clears effective and permitted
    _check(lib.capset(struct.pack("II", CAP_VERSION_3, 0), bytes(24)), "clear inheritable capabilities")
    _check(lib.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    install_seccomp(lib)
    if has_capabilities():
        raise ConfineError("capabilities remain after dropping them")


def _last_cap() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except OSError:
        return 40


def has_capabilities() -> bool:
    """Whether any capability set of this process is non-empty (read from /proc/self/status)."""
    try:
        with open("/proc/self/status") as f:
            rows = [line.split() for line in f if line.startswith(("CapPrm", "CapEff", "CapBnd", "CapAmb", "CapInh"))]
    except OSError:  # an empty /proc: ask the kernel directly
        header = struct.pack("II", CAP_VERSION_3, 0)
        data = ctypes.create_string_buffer(24)
        if libc().capget(header, data) != 0:
            return True
        return any(data.raw)
    return any(int(row[1], 16) for row in rows)


def set_limits(settings: dict[str, Any]) -> None:
    """rlimits of the student process (soft = hard, and no capability left to raise them)."""
    def lim(which: int, value: int | None) -> None:
        if value is not None:
            resource.setrlimit(which, (value, value))

    lim(resource.RLIMIT_CORE, 0)
    lim(resource.RLIMIT_DATA, settings.get("memory_bytes"))
    lim(resource.RLIMIT_CPU, settings.get("cpu_seconds"))
    lim(resource.RLIMIT_FSIZE, settings.get("file_size_bytes"))
    lim(resource.RLIMIT_NPROC, settings.get("max_processes"))
    lim(resource.RLIMIT_NOFILE, 256)


# --- seccomp ---------------------------------------------------------------------------------
# A small deny-list filter written here (see docs/security.md for why not libseccomp): system
# calls that change mounts, namespaces, privileges or the kernel, or reach another process's
# memory, fail with EPERM; clone() with any namespace flag fails with EPERM; clone3() reports
# ENOSYS so the C library falls back to clone(); any other architecture is killed.

AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
_DENIED = {
    # name: (x86_64, aarch64)
    "mount": (165, 40), "umount2": (166, 39), "pivot_root": (155, 41), "chroot": (161, 51),
    "unshare": (272, 97), "setns": (308, 268), "ptrace": (101, 117), "bpf": (321, 280),
    "keyctl": (250, 219), "add_key": (248, 217), "request_key": (249, 218),
    "kexec_load": (246, 104), "kexec_file_load": (320, 294), "init_module": (175, 105),
    "finit_module": (313, 273), "delete_module": (176, 106), "reboot": (169, 142),
    "swapon": (167, 224), "swapoff": (168, 225), "perf_event_open": (298, 241),
    "userfaultfd": (323, 282), "process_vm_readv": (310, 270), "process_vm_writev": (311, 271),
    "open_by_handle_at": (304, 265), "name_to_handle_at": (303, 264), "acct": (163, 89),
    "quotactl": (179, 60), "syslog": (103, 116), "vhangup": (153, 58), "settimeofday": (164, 170),
    "clock_settime": (227, 112), "adjtimex": (159, 171), "clock_adjtime": (305, 266),
    "kcmp": (312, 272), "fanotify_init": (300, 262),
    "io_uring_setup": (425, 425), "io_uring_enter": (426, 426), "io_uring_register": (427, 427),
    "open_tree": (428, 428), "move_mount": (429, 429), "fsopen": (430, 430), "fsconfig": (431, 431),
    "fsmount": (432, 432), "fspick": (433, 433), "mount_setattr": (442, 442),
}
_CLONE = (56, 220)
_CLONE3 = 435
EPERM, ENOSYS = 1, 38
RET_ALLOW, RET_ERRNO, RET_KILL_PROCESS = 0x7FFF0000, 0x00050000, 0x80000000
LD_W_ABS, JEQ_K, JGE_K, JSET_K, RET_K = 0x20, 0x15, 0x35, 0x45, 0x06
# offsets in struct seccomp_data: nr (u32), arch (u32), instruction pointer (u64), args[6] (u64)
SECCOMP_NR, SECCOMP_ARCH, SECCOMP_ARG0_LOW = 0, 4, 16
X32_SYSCALL_BIT = 0x40000000  # the x32 ABI's system call numbers carry it


def seccomp_program(machine: str) -> list[tuple[int, int, int, int]]:
    """The filter as (code, jt, jf, k) instructions for ``machine`` (``x86_64`` or ``aarch64``)."""
    if machine not in AUDIT_ARCH:
        raise ConfineError(f"no seccomp filter for the {machine} architecture")
    col = 0 if machine == "x86_64" else 1
    prog: list[tuple[int, int, int, int]] = [
        (LD_W_ABS, 0, 0, SECCOMP_ARCH),
        (JEQ_K, 1, 0, AUDIT_ARCH[machine]),
        (RET_K, 0, 0, RET_KILL_PROCESS),
        (LD_W_ABS, 0, 0, SECCOMP_NR),
    ]
    if machine == "x86_64":
        prog += [(JGE_K, 0, 1, X32_SYSCALL_BIT), (RET_K, 0, 0, RET_ERRNO | EPERM)]
    for numbers in sorted(_DENIED.values()):
        prog += [(JEQ_K, 0, 1, numbers[col]), (RET_K, 0, 0, RET_ERRNO | EPERM)]
    prog += [(JEQ_K, 0, 1, _CLONE3), (RET_K, 0, 0, RET_ERRNO | ENOSYS)]
    prog += [
        (JEQ_K, 0, 3, _CLONE[col]),
        (LD_W_ABS, 0, 0, SECCOMP_ARG0_LOW),  # clone's flags on both architectures
        (JSET_K, 0, 1, NAMESPACE_FLAGS),
        (RET_K, 0, 0, RET_ERRNO | EPERM),
        (RET_K, 0, 0, RET_ALLOW),
    ]
    return prog


def install_seccomp(lib: Any) -> None:
    """Install :func:`seccomp_program` for this machine on the calling thread (and its children)."""
    prog = seccomp_program(platform.machine())
    raw = b"".join(struct.pack("HBBI", *ins) for ins in prog)
    buf = ctypes.create_string_buffer(raw, len(raw))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(prog), ctypes.cast(buf, ctypes.c_void_p))
    _check(lib.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0), "seccomp filter")
