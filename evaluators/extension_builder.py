"""The trusted build step: C++ extensions are compiled by a builder process that runs no candidate code,
installed by the judge under a key that is the hash of everything that went into them, read-only to
candidates, and checked against their recorded hash each time they are handed out.

A candidate can therefore neither swap another candidate's compiled code (it cannot write the cache) nor
plant a build under someone else's key (the key is recomputed by the judge from the sources it built).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from evaluators.forbidden import linked_forbidden

MANIFEST = "manifest.json"


def build_key(name: str, arguments: dict) -> str:
    material = json.dumps({"name": name, "arguments": arguments}, sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ExtensionCache:
    """`<root>/judged/<key>/{<name>.so, manifest.json}`, written only by the judge."""

    def __init__(self, root: str | Path):
        self.root = Path(root) / "judged"

    def ensure(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for directory in (self.root.parent, self.root):
            if os.geteuid() == 0 and directory.stat().st_uid != 0:
                os.chown(directory, 0, 0)
            directory.chmod(0o755)

    def lookup(self, key: str) -> str | None:
        """The entry's directory name if it is intact; a tampered or half-written entry is removed."""
        entry = self.root / key
        manifest = entry / MANIFEST
        if not manifest.is_file():
            return None
        try:
            record = json.loads(manifest.read_text())
            if file_digest(entry / record["file"]) == record["sha256"]:
                return f"judged/{key}"
        except (OSError, ValueError, KeyError):
            pass
        shutil.rmtree(entry, ignore_errors=True)
        return None

    def install(self, key: str, name: str, built: Path) -> str:
        staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=self.root))
        target = staging / f"{name}.so"
        shutil.copyfile(built, target)
        target.chmod(0o444)
        (staging / MANIFEST).write_text(json.dumps({"name": name, "file": target.name, "sha256": file_digest(target)}))
        staging.chmod(0o755)
        try:
            staging.rename(self.root / key)
        except OSError:  # another judge installed the same key first; theirs is equally valid
            shutil.rmtree(staging, ignore_errors=True)
        return f"judged/{key}"

    def forbidden_symbol(self, key: str, name: str, forbidden: tuple[str, ...]) -> str:
        return linked_forbidden(str(self.root / key / f"{name}.so"), forbidden)


def build_in_runner(message: dict) -> dict:
    """Runs in a builder process (its own uid, no candidate code): compile, but never load, the extension."""
    import torch.utils.cpp_extension as cpp_extension

    request = json.loads(Path(message["request_path"]).read_text())
    cpp_extension._import_module_from_library = lambda *args, **kwargs: None
    try:
        cpp_extension.load_inline(request["name"], **request["arguments"], build_directory=os.getcwd(), verbose=False)
    except Exception as exc:  # noqa: BLE001 - a compiler error is the candidate's, reported back to it
        return {"type": "build_failed", "message": str(exc)[-6000:]}
    built = Path.cwd() / f"{request['name']}.so"
    if not built.is_file():
        return {"type": "build_failed", "message": f"the build produced no {built.name}"}
    return {"type": "built", "file": built.name}
