"""Who a user tool runs as, and how everything it started is found again afterwards.

When the server runs as root, every tool call gets a user id of its own from a pool that no
account uses, held with a lock file so that several troupe processes on one machine never
hand out the same id at once. Then:
- the tool cannot read the server's /proc/<pid>/environ, signal it, or read its 0600/0700
  files (the server is root, the tool is not);
- concurrent tools cannot see or signal each other, nor read each other's environment (which
  holds their own agent's scoped token);
- RLIMIT_NPROC, which the kernel counts per user id and ignores for root, counts exactly the
  processes of this one call;
- everything the call left behind is found by owner: `kill -9 -1` run as that id ends every
  process it started, even one that left the process group with setsid(), and the files it
  left in the shared temporary folders are removed.

When the id pool is unavailable (a user namespace that does not map it), tools run as
`nobody`, shared by concurrent calls. When the server is not root, tools run as the server's
own user: the sandbox then marks the server process non-dumpable so a tool cannot read its
/proc environ, but a tool can still read what that user can read. Run the server as root (or
as a dedicated user in a container) when tools come from people you do not trust."""

import asyncio
import contextlib
import ctypes
import functools
import logging
import os
import pwd
import random
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

# Far above any account range and below 2**31 (some tools read larger ids as negative).
UID_POOL_START = 0x7F00_0000
UID_POOL_SIZE = 4096
LOCK_DIRS = (Path("/run/troupe-sandbox"), Path(tempfile.gettempdir()) / "troupe-sandbox-uids")
# Folders any user may write to: where a tool's files can outlive its working directory.
SHARED_TMP_DIRS = (Path(tempfile.gettempdir()), Path("/var/tmp"), Path("/dev/shm"))
PR_SET_DUMPABLE = 4


@dataclass
class ToolIdentity:
    """The user id a tool call runs as; `exclusive` when no other process uses that id."""

    uid: int | None  # None: the server's own user
    exclusive: bool = False
    lock: IO[bytes] | None = None

    def release(self) -> None:
        if self.lock is not None:
            self.lock.close()  # closing drops the flock
            self.lock = None


def acquire_identity() -> ToolIdentity:
    """A user id for one tool call: our own when not root, else one of the pool (or nobody)."""
    if os.geteuid() != 0:
        _protect_server_environment()
        return ToolIdentity(uid=None)
    for uid in _pool_candidates():
        lock = _try_lock(uid)
        if lock is not None:
            return ToolIdentity(uid=uid, exclusive=True, lock=lock)
    return ToolIdentity(uid=_nobody())


async def end_processes(identity: ToolIdentity, process_group: int) -> None:
    """Kill the tool's process group and, with an exclusive id, every process of that id."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process_group, 9)
    if not identity.exclusive or identity.uid is None:
        return
    killer = _kill_program()
    if killer is None:
        _kill_by_scan(identity.uid)
        return
    # kill(-1) signals every process the caller may signal, atomically against new forks:
    # run as the tool's id, that is everything the tool started and nothing else.
    # (subprocess in a thread: uvloop's subprocess_exec takes no user/group arguments.)
    await asyncio.to_thread(
        subprocess.run,
        [killer, "-9", "-1"],
        user=identity.uid,
        group=identity.uid,
        extra_groups=[],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd="/",
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )


def remove_leftovers(identity: ToolIdentity) -> None:
    """Delete what an exclusive id left in the shared temporary folders (after end_processes)."""
    if not identity.exclusive or identity.uid is None:
        return
    for folder in dict.fromkeys(SHARED_TMP_DIRS):
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            with contextlib.suppress(OSError):
                if entry.stat(follow_symlinks=False).st_uid != identity.uid:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)


@functools.cache
def interpreter(dropping_privileges: bool) -> tuple[str, tuple[str, ...]]:
    """The Python to run tools with, and the package folders it must add to its path.

    Ours, unless the tool's user cannot read our standard library (a Python installed under
    /root, say): then a world-readable Python of the same version, given our site-packages so
    tools still find what the server has installed (httpx, letta_client...)."""
    paths = sysconfig.get_paths()
    packages = tuple(dict.fromkeys(paths[k] for k in ("purelib", "platlib")))
    if not dropping_privileges or _world_readable(Path(paths["stdlib"]) / "os.py"):
        return sys.executable, packages
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for folder in ("/usr/local/bin", "/usr/bin"):
        candidate = Path(folder) / version
        if candidate.is_file() and _world_readable(candidate):
            return str(candidate), packages
    log.warning(
        "the tool sandbox found no %s readable by unprivileged users; tools can import only "
        "what the sandbox runner loaded before dropping root",
        version,
    )
    return sys.executable, packages


def _pool_candidates() -> Iterator[int]:
    if not _mapped(UID_POOL_START, UID_POOL_SIZE):
        return
    start = random.randrange(UID_POOL_SIZE)  # spread out, so ids are rarely reused at once
    for i in range(256):
        uid = UID_POOL_START + (start + i) % UID_POOL_SIZE
        if not _has_account(uid):
            yield uid


def _try_lock(uid: int) -> IO[bytes] | None:
    import fcntl  # POSIX only, like the rest of the sandbox

    folder = _lock_dir()
    if folder is None:
        return None
    try:
        fd = os.open(folder / str(uid), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError:
        return None
    lock = os.fdopen(fd, "r+b", buffering=0)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        return None
    return lock


@functools.cache
def _lock_dir() -> Path | None:
    """A folder only root can write to, for the pool's lock files."""
    for folder in LOCK_DIRS:
        with contextlib.suppress(OSError):
            folder.mkdir(mode=0o700, exist_ok=True)
            info = folder.lstat()
            if stat.S_ISDIR(info.st_mode) and info.st_uid == 0 and not info.st_mode & 0o077:
                return folder
    return None


@functools.cache
def _mapped(first: int, count: int) -> bool:
    """Whether ids first..first+count-1 exist in this process's user namespace."""
    try:
        lines = Path("/proc/self/uid_map").read_text().splitlines()
    except OSError:
        return False
    for line in lines:
        inside, _, length = (int(part) for part in line.split())
        if inside <= first and first + count <= inside + length:
            return True
    return False


def _has_account(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True


def _nobody() -> int | None:
    with contextlib.suppress(KeyError):
        uid = pwd.getpwnam("nobody").pw_uid
        if _mapped(uid, 1):
            return uid
    log.warning("the tool sandbox found no unprivileged user to run tools as")
    return None


@functools.cache
def _kill_program() -> str | None:
    return shutil.which("kill", path="/usr/bin:/bin")


def _kill_by_scan(uid: int) -> None:
    """Without a kill program: kill the id's processes found in /proc until none is left."""
    for _ in range(50):
        found = False
        for entry in os.scandir("/proc"):
            if entry.name.isdigit() and _real_uid(entry.path) == uid:
                found = True
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(entry.name), 9)
        if not found:
            return


def _real_uid(proc_dir: str) -> int | None:
    try:
        for line in Path(proc_dir, "status").read_text().splitlines():
            if line.startswith("Uid:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


@functools.cache
def _protect_server_environment() -> None:
    """Not root, tools run as our user: keep them out of /proc/<server>/environ and ptrace.

    A non-dumpable process's /proc files belong to root; tools exec a fresh program and are
    dumpable again, so this touches the server process only."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
            log.warning("could not mark the server non-dumpable; tools may read its environment")


def _world_readable(path: Path) -> bool:
    """Whether any user can read `path` (and get to it)."""
    try:
        if not path.stat().st_mode & stat.S_IROTH:
            return False
        return all(parent.stat().st_mode & stat.S_IXOTH for parent in path.parents)
    except OSError:
        return False
