"""Checkpoint storage, kept apart from the search: every finished simulation, appended as it ends.

One JSON line per run, keyed by a hash of its parameter values, its seed and its model size.
The file is named by a fingerprint of everything else that determines a run's KPIs (the base
scenario and the simulation code), so a changed model never reuses stale runs, while any search
over the same model - a resumed one, a larger budget, other targets or a holdout - reuses every
run it proposes again.  It is a cache of simulations; the search algorithm is replayed on top.  Lines are flushed and fsync'ed one by one; a line cut short by a
kill is dropped on reading (and the file rewritten atomically without it).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def fingerprint(config: dict[str, Any]) -> str:
    """A stable hash of a JSON-serialisable configuration."""
    text = json.dumps(config, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class CheckpointStore:
    """Append-only JSONL store of run records, keyed by `record['key']`."""

    def __init__(self, folder: str | Path, config: dict[str, Any]) -> None:
        self.folder = Path(folder)
        self.id = fingerprint(config)
        self.path = self.folder / f"runs-{self.id}.jsonl"
        self.config_path = self.folder / f"config-{self.id}.json"
        self.config = config
        self.records: dict[str, dict[str, Any]] = {}
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        good: list[str] = []
        damaged = False
        with open(self.path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    damaged = True
                    continue
                if not line.endswith("\n"):
                    damaged = True
                self.records[record["key"]] = record
                good.append(json.dumps(record, sort_keys=True))
        if damaged:
            _atomic_write(self.path, "".join(g + "\n" for g in good))

    def __contains__(self, key: str) -> bool:
        return key in self.records

    def __len__(self) -> int:
        return len(self.records)

    def get(self, key: str) -> dict[str, Any]:
        """The stored record of a job key."""
        return self.records[key]

    @property
    def invocations_path(self) -> Path:
        """Log of the calibrations that used this checkpoint (one JSON line each)."""
        return self.folder / f"invocations-{self.id}.jsonl"

    def log_invocation(self, entry: dict[str, Any]) -> None:
        """Append one invocation (start time, minutes, new runs, command) to the log."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.invocations_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, sort_keys=True, default=str) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def invocations(self) -> list[dict[str, Any]]:
        """Logged invocations, oldest first."""
        if not self.invocations_path.exists():
            return []
        out = []
        for line in self.invocations_path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return out

    def append(self, record: dict[str, Any]) -> None:
        """Store one record durably (written, flushed and fsync'ed before returning)."""
        if record["key"] in self.records:
            raise KeyError(f"run {record['key']} is already stored")
        self.folder.mkdir(parents=True, exist_ok=True)
        if not self.config_path.exists():
            _atomic_write(self.config_path, json.dumps(self.config, sort_keys=True, indent=1, default=str))
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, sort_keys=True) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self.records[record["key"]] = record


def _atomic_write(path: Path, text: str) -> None:
    """Write a file via a temporary sibling and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Public atomic text write (used for fitted files and reports)."""
    _atomic_write(Path(path), text)
