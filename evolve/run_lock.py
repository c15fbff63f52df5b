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
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Engine, text

LOCK_NAME = "lock"
_FLOCK = "hhqqi4x"            # struct flock on Linux x86-64/arm64: type, whence, start, len, pid (+ padding)


ACTIVE = ("running", "waiting for LLM")


def live_status(status: str, holder: str | None, updated_at: datetime | None = None,
                held_since: float | None = None) -> str:
    """The database says `running` until a run records how it ended; a kill -9 never does, so a run that says
    it is active while nobody holds its lock was killed.  A run held since after its database last told how a
    run ended is being resumed: `stark resume` holds the lock while it starts Ray and its workers, and records
    `running` only when the loop starts (a holder that took the lock before that record wrote it, and is only
    shutting down)."""
    if status in ACTIVE and not holder:
        return "stopped unexpectedly (killed?); `stark resume` continues it"
    if holder and status not in ACTIVE and updated_at is not None and held_since is not None \
            and held_since > _utc(updated_at).timestamp():
        return f"resuming (was {status})"
    return status


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment   # SQLite hands back naive UTC


def live_elapsed(saved_elapsed_s: float, saved_at: datetime, status: str, holder: str | None,
                 held_since: float | None, now: datetime | None = None) -> float:
    """The loop saves its elapsed time with each heartbeat (and `updated_at` with it): while it runs, the time
    since that save counts too, so the figure does not jump by a heartbeat's worth.  Only when the holder made
    that save: a killed run being resumed says `running` from before the kill, and the time it lay dead is not
    its time."""
    saved_at = _utc(saved_at)
    if status not in ACTIVE or not holder or held_since is None or held_since > saved_at.timestamp():
        return saved_elapsed_s
    return saved_elapsed_s + max(0.0, ((now or datetime.now(timezone.utc)) - saved_at).total_seconds())


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


def held_since(run_root: Path) -> float | None:
    """When the lock's holder took it (its own record; None when unreadable)."""
    try:
        since = json.loads((Path(run_root) / LOCK_NAME).read_text() or "{}").get("since")
    except (OSError, ValueError, AttributeError):
        return None
    return float(since) if isinstance(since, (int, float)) else None


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
