"""Another revision of this repository checked out beside it, for benchmarks that measure before against after.

The ref is resolved to its commit first (a symbolic `HEAD` names whatever it points at now, never a checkout left
from an earlier run), the worktree lives in a fresh temporary directory, and it is removed from the repository's
list of worktrees when the benchmark is done.
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def commit_of(ref: str) -> str:
    done = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", f"{ref}^{{commit}}"], capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise SystemExit(f"not a revision of this repository: {ref}")
    return done.stdout.strip()


@contextlib.contextmanager
def checkout_of(ref: str) -> Iterator[Path]:
    commit = commit_of(ref)
    path = Path(tempfile.mkdtemp(prefix=f"stark-{commit[:9]}-")) / "stark"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), commit], check=True,
                   capture_output=True)
    try:
        yield path
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)], capture_output=True)
