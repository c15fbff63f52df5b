"""One writer per run: an OS lock on `<run>/lock` that dies with its process (and, for a PostgreSQL database,
a session advisory lock keyed by the campaign's name, for writers on other machines).

The lock is a Linux open-file-description lock (F_OFD_SETLK): the kernel drops it when its holder dies, so
a killed holder never leaves a stale lock, and unlike a classic POSIX record lock it is not dropped when the
holder happens to open and close the same file elsewhere.  The file's contents (pid, host, command, start
time) only describe the holder to whoever is refused.  Readers ask whether the lock is held (F_OFD_GETLK)
without taking it, so `stark status` never gets in a writer's way.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import struct
import sys
import time
import zlib
from pathlib import Path

from sqlalchemy import Engine, text

LOCK_NAME = "lock"
_FLOCK = "hhqqi4x"            # struct flock on Linux x86-64/arm64: type, whence, start, len, pid (+ padding)


def live_status(status: str, holder: str | None) -> str:
    """The database says `running` until a run records how it ended; a kill -9 never does, so a run that says
    it is active while nobody holds its lock was killed."""
    if status in ("running", "waiting for LLM") and not holder:
        return "stopped unexpectedly (killed?); `stark resume` continues it"
    return status


class RunLocked(RuntimeError):
    """Another process holds the run; one line naming it."""


def _describe(path: Path) -> str:
    try:
        holder = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        holder = {}
    pid = holder.get("pid", "?")
    since = holder.get("since")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(since)) if since else "an unknown time"
    command = holder.get("command", "stark")
    host = holder.get("host", "?")
    return f"pid {pid} on {host} (`{command}`, since {when})"


def holder_of(run_root: Path) -> str | None:
    """Who holds the run's lock, or None; never takes the lock, works on a read-only directory."""
    path = Path(run_root) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        query = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        kind = struct.unpack(_FLOCK, fcntl.fcntl(fd, fcntl.F_OFD_GETLK, query))[0]
    finally:
        os.close(fd)
    return None if kind == fcntl.F_UNLCK else _describe(path)


def refuse_if_held(run_root: Path) -> None:
    """Raise RunLocked naming the holder, if another process drives this run (never from its own holder: an
    open-file-description lock conflicts with its own process's other descriptors)."""
    if (holder := holder_of(run_root)) is not None:
        raise RunLocked(f"{run_root} is in use by {holder}; wait for it to finish or stop it first")


class RunLock:
    """Held for as long as a `stark run` or `stark resume` drives the campaign."""

    def __init__(self, run_root: Path):
        self.path = Path(run_root) / LOCK_NAME
        self.fd: int | None = None
        self.pg_connection = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0))
        except OSError:
            os.close(fd)
            refuse_if_held(self.path.parent)
            raise RunLocked(f"{self.path.parent} is in use by another process; wait for it to finish or stop it "
                            "first") from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time(),
                                 "command": " ".join(["stark", *sys.argv[1:3]])[:200]}).encode())
        self.fd = fd

    def hold_database(self, engine: Engine, campaign_name: str) -> None:
        """On PostgreSQL, also hold an advisory lock, so writers with different run directories (other machines)
        are refused too.  It lives as long as this connection."""
        if engine.dialect.name != "postgresql":
            return
        key = zlib.crc32(f"stark:{campaign_name}".encode())
        connection = engine.connect()
        if not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar():
            connection.close()
            raise RunLocked(f"campaign {campaign_name!r} is being run by another stark process on this database "
                            "(PostgreSQL advisory lock held); wait for it to finish or stop it first")
        connection.commit()
        self.pg_connection = connection

    def release(self) -> None:
        if self.pg_connection is not None:
            try:
                self.pg_connection.close()
            except Exception:  # noqa: BLE001 - the server may be gone; its session lock went with it
                pass
            self.pg_connection = None
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
