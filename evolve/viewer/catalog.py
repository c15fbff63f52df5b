"""The runs the viewer shows, kept open between polls.

A page polls every two seconds, and a runs directory can hold dozens of campaigns of tens of thousands of
programs: each run's config is parsed again only when its file changes, and each campaign's summary and program
rows are read again only when its database changed (ChangeProbe), so an unchanged campaign costs one probe.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from evolve.db.engine import StoreError
from evolve.run_dir import RunDir
from evolve.runs_index import RunEntry, run_directories, run_entry
from evolve.typed_config import ConfigError
from evolve.viewer import queries
from evolve.viewer.change_probe import ChangeProbe
from evolve.viewer.program_feed import ProgramFeed


class CatalogError(LookupError):
    """A run the viewer cannot show: `status` is the HTTP answer, the message one line for the page."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class OpenCampaign:
    def __init__(self, entry: RunEntry):
        self.entry = entry
        self.store = entry.open_store()
        try:
            self.campaign_id = self.store.campaign_id(entry.config.campaign.name)
        except Exception:
            self.store.close()
            raise
        self.probe = ChangeProbe(self.store, self.campaign_id)
        self.feed = ProgramFeed(self.store, self.campaign_id)
        self.lock = threading.Lock()
        self.summary_version: tuple | None = None
        self.feed_version: tuple | None = None
        self.summary: dict[str, Any] = {}

    def overview(self) -> dict[str, Any]:
        with self.lock:
            version = self.probe.version()       # read before the rows: a commit in between shows up next poll
            if version != self.summary_version:
                self.summary = queries.campaign_overview(self.entry, self.store, self.campaign_id)
                self.summary_version = version
            summary = self.summary
        return {**summary, **queries.live_fields(self.entry, summary)}

    def rows_since(self, cursor: str) -> dict[str, Any]:
        with self.lock:
            version = self.probe.version()
            if version != self.feed_version:
                self.feed.refresh()
                self.feed_version = version
        return self.feed.since(cursor)

    def close(self) -> None:
        self.probe.close()
        self.store.close()


class RunsCatalog:
    """Run directories directly under the root (or the root itself), rescanned on each listing."""

    def __init__(self, root: Path):
        self.root = root
        self.entries: dict[Path, tuple[tuple[int, int], RunEntry | str]] = {}
        self.opened: dict[str, OpenCampaign] = {}
        self.lock = threading.Lock()

    def scan(self) -> dict[str, RunEntry | str]:
        """key → entry, or the one-line reason the run cannot be read (a broken config.json)."""
        try:
            paths = run_directories(self.root)
        except FileNotFoundError as exc:
            raise CatalogError(404, str(exc)) from None
        found: dict[str, RunEntry | str] = {}
        with self.lock:
            for path in paths:
                try:
                    stat = RunDir(path).config.stat()
                except OSError:
                    continue
                stamp = (stat.st_mtime_ns, stat.st_size)
                cached = self.entries.get(path)
                if cached is None or cached[0] != stamp:
                    try:
                        entry: RunEntry | str = run_entry(path)
                    except (ConfigError, OSError) as exc:
                        entry = str(exc).splitlines()[0]
                    cached = self.entries[path] = (stamp, entry)
                    stale = self.opened.pop(path.name, None)
                    if stale is not None:
                        stale.close()
                found[path.name] = cached[1]
            for key in [k for k in self.opened if k not in found]:     # a run directory removed meanwhile
                self.opened.pop(key).close()
        return found

    def open(self, key: str, entry: RunEntry | str | None = None) -> OpenCampaign:
        """The campaign under `key` (its entry from a scan just made, or scanned now)."""
        entry = entry if entry is not None else self.scan().get(key)
        if entry is None:
            raise CatalogError(404, f"no campaign {key!r} under {self.root}")
        if isinstance(entry, str):
            raise CatalogError(409, entry)
        with self.lock:
            if key not in self.opened:
                try:
                    self.opened[key] = OpenCampaign(entry)
                except StoreError as exc:
                    raise CatalogError(409, str(exc)) from None
            return self.opened[key]

    def close(self) -> None:
        for campaign in self.opened.values():
            campaign.close()
        self.opened.clear()
