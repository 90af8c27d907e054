"""Where finished runs are kept: in memory, or a results directory that survives a crash.

Storage is kept apart from the experiment algorithm (as optuna keeps storages apart from
samplers): the engine asks a store which runs are already finished and hands it each run as
it finishes.  `DirectoryStore` layout::

    manifest.json                 experiment, versions, and every run's seed, scenario hash, status
    runs/<arm>/r00003.parquet     one finished run: its monthly series; KPIs and identity in the
                                  file's Parquet metadata (key 'simsales.run'), so each file is
                                  complete on its own
    kpis.parquet, monthly.parquet all finished runs in one table each (written at the end)

Every file is written to a temporary name, flushed to disk and moved into place with
`os.replace`, so a killed process leaves either the old file or the new one, never half a file.
A run counts as finished when its Parquet file exists with the same seed and scenario hash as the
task asking for it: a kill between the Parquet file and the manifest loses nothing.
"""

from __future__ import annotations

import json
import os
import time
from abc import ABC, abstractmethod
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from simsales.experiments.tasks import STATUS_DONE, STATUS_FAILED, RunOutput, RunTask

META_KEY = b"simsales.run"
MANIFEST = "manifest.json"


class RunStore(ABC):
    """Keeps finished runs; tells the engine which runs of a task list are already done."""

    @abstractmethod
    def open(self, meta: dict[str, Any], tasks: list[RunTask]) -> dict[str, RunOutput]:
        """Start or resume an experiment; returns the stored outputs (done or failed) of these tasks."""

    @abstractmethod
    def save(self, task: RunTask, output: RunOutput) -> None:
        """Keep one finished (or failed) run."""

    def close(self) -> None:
        """Flush anything buffered."""

    def write_tables(self, kpis: pd.DataFrame, monthly: pd.DataFrame, extra: dict[str, Any] | None = None) -> None:
        """Keep the consolidated result tables (no-op for stores without files)."""

    @property
    def folder(self) -> Path | None:
        """The results directory, if the store has one."""
        return None


class MemoryStore(RunStore):
    """Runs kept in a dict for the life of the object (re-using it resumes, like a directory)."""

    def __init__(self) -> None:
        self.runs: dict[str, tuple[dict[str, Any], RunOutput]] = {}
        self.meta: dict[str, Any] = {}

    def open(self, meta: dict[str, Any], tasks: list[RunTask]) -> dict[str, RunOutput]:
        """Remember the meta data; return stored outputs whose seed and scenario hash match."""
        self.meta = meta
        found = {}
        for task in tasks:
            stored = self.runs.get(task.run_id)
            if stored is not None and _same_run(stored[0], task):
                found[task.run_id] = stored[1]
        return found

    def save(self, task: RunTask, output: RunOutput) -> None:
        """Keep the output under its run id."""
        self.runs[task.run_id] = (task.record(), output)


class DirectoryStore(RunStore):
    """Per-run Parquet files plus a JSON manifest in one folder; safe against kills part-way."""

    def __init__(self, folder: str | Path, manifest_interval: float = 1.0) -> None:
        self._folder = Path(folder)
        self.manifest_interval = manifest_interval
        self.manifest: dict[str, Any] = {}
        self._dirty = False
        self._last_write = 0.0
        self._lock: Path | None = None

    @property
    def folder(self) -> Path:
        """The results directory."""
        return self._folder

    # --- life cycle ---------------------------------------------------------------------

    def open(self, meta: dict[str, Any], tasks: list[RunTask]) -> dict[str, RunOutput]:
        """Lock the folder, clear half-written temporaries, read what is finished, write the manifest."""
        (self._folder / "runs").mkdir(parents=True, exist_ok=True)
        self._take_lock()
        for tmp in self._folder.rglob("*.tmp-*"):
            tmp.unlink(missing_ok=True)
        old = self._read_manifest()
        if old.get("experiment", {}).get("name") not in (None, meta.get("name")):
            self.close()
            raise ValueError(
                f"{self._folder} holds experiment {old['experiment']['name']!r}, not {meta.get('name')!r}: "
                "use another results directory"
            )
        runs: dict[str, Any] = dict(old.get("runs", {}))
        found: dict[str, RunOutput] = {}
        for task in tasks:
            output = self._read_run(task)
            entry = runs.get(task.run_id)
            if output is not None:
                found[task.run_id] = output
                runs[task.run_id] = {**task.record(), **_status(output), "file": self._relative(task)}
            elif entry is not None and entry.get("status") == STATUS_FAILED and _same_run(entry, task):
                found[task.run_id] = RunOutput(task.run_id, STATUS_FAILED, {}, None, entry.get("error"), entry.get("seconds", 0.0))
            elif entry is None or not _same_run(entry, task) or entry.get("status") == STATUS_DONE:
                runs[task.run_id] = {**task.record(), "status": "pending"}
        created = old.get("experiment", {}).get("created", _now())
        self.manifest = {"format": 1, "experiment": {**meta, "created": created, "updated": _now()}, "runs": runs}
        self._write_manifest()
        return found

    def save(self, task: RunTask, output: RunOutput) -> None:
        """Write the run's Parquet file (if it finished), then its manifest entry."""
        entry = {**task.record(), **_status(output)}
        if output.status == STATUS_DONE and output.monthly is not None:
            meta = {**task.record(), "kpis": output.kpis, "seconds": output.seconds, "finished": _now()}
            table = pa.Table.from_pandas(output.monthly, preserve_index=False)
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), META_KEY: json.dumps(meta).encode()})
            path = self._path(task)
            path.parent.mkdir(parents=True, exist_ok=True)
            _atomic(path, lambda tmp: pq.write_table(table, tmp))
            entry["file"] = self._relative(task)
        self.manifest.setdefault("runs", {})[task.run_id] = entry
        self._dirty = True
        if output.status != STATUS_DONE or time.monotonic() - self._last_write >= self.manifest_interval:
            self._write_manifest()

    def close(self) -> None:
        """Write the manifest if it changed and release the lock."""
        if self._dirty:
            self._write_manifest()
        if self._lock is not None:
            self._lock.unlink(missing_ok=True)
            self._lock = None

    def write_tables(self, kpis: pd.DataFrame, monthly: pd.DataFrame, extra: dict[str, Any] | None = None) -> None:
        """Write kpis.parquet and monthly.parquet (all finished runs) and add `extra` to the manifest."""
        _atomic(self._folder / "kpis.parquet", lambda tmp: kpis.to_parquet(tmp, index=False))
        _atomic(self._folder / "monthly.parquet", lambda tmp: monthly.to_parquet(tmp, index=False))
        if extra:
            self.manifest.setdefault("experiment", {}).update(extra)
            self._write_manifest()

    # --- internals ----------------------------------------------------------------------

    def _path(self, task: RunTask) -> Path:
        return self._folder / "runs" / f"{task.run_id}.parquet"

    def _relative(self, task: RunTask) -> str:
        return f"runs/{task.run_id}.parquet"

    def _read_run(self, task: RunTask) -> RunOutput | None:
        path = self._path(task)
        if not path.is_file():
            return None
        try:
            table = pq.read_table(path)
            meta = json.loads((table.schema.metadata or {})[META_KEY])
        except (OSError, KeyError, ValueError, pa.ArrowException):
            return None  # unreadable: run it again
        if not _same_run(meta, task):
            return None
        monthly = table.to_pandas()
        return RunOutput(task.run_id, STATUS_DONE, {k: float(v) for k, v in meta["kpis"].items()}, monthly, None, meta.get("seconds", 0.0))

    def _read_manifest(self) -> dict[str, Any]:
        path = self._folder / MANIFEST
        if not path.is_file():
            return {}
        try:
            return json.loads(path.read_text())
        except ValueError:
            return {}

    def _write_manifest(self) -> None:
        self.manifest.setdefault("experiment", {})["updated"] = _now()
        counts: dict[str, int] = {}
        for entry in self.manifest.get("runs", {}).values():
            counts[entry.get("status", "pending")] = counts.get(entry.get("status", "pending"), 0) + 1
        self.manifest["status"] = counts
        text = json.dumps(self.manifest, indent=1, sort_keys=False, default=str)
        _atomic(self._folder / MANIFEST, lambda tmp: Path(tmp).write_text(text))
        self._dirty = False
        self._last_write = time.monotonic()

    def _take_lock(self) -> None:
        lock = self._folder / "lock"
        for _ in range(2):
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                try:
                    pid = int(lock.read_text().strip() or 0)
                except (OSError, ValueError):
                    pid = 0
                if pid and pid != os.getpid() and _alive(pid):
                    raise RuntimeError(f"{self._folder} is in use by process {pid}") from None
                lock.unlink(missing_ok=True)  # left by a killed process
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(str(os.getpid()))
            self._lock = lock
            return
        raise RuntimeError(f"could not lock {self._folder}")


def make_store(out: RunStore | str | Path | None) -> RunStore:
    """A store from what the user gave: a store, a folder path, or None (memory)."""
    if isinstance(out, RunStore):
        return out
    if out is None:
        return MemoryStore()
    return DirectoryStore(out)


def _same_run(stored: dict[str, Any], task: RunTask) -> bool:
    return stored.get("seed") == task.seed and stored.get("scenario_hash") == task.scenario_hash


def _status(output: RunOutput) -> dict[str, Any]:
    return {"status": output.status, "error": output.error, "seconds": round(output.seconds, 3), "version": _version()}


def _version() -> str:
    from simsales import __version__

    return __version__


def _atomic(path: Path, write: Any) -> None:
    """Write through `write(tmp_path)`, fsync, then os.replace onto `path`."""
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    write(str(tmp))
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
