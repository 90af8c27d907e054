"""Where finished runs are kept: in memory, or a directory that survives a crash.

Storage is kept apart from the algorithms (as optuna keeps storages apart from samplers and
studies): a client asks a store which of its tasks already ran and hands it each run as it
finishes.  `DirectoryStore` layout::

    manifest.json                 the study (name, kind, versions ...), every run's labels, identity
                                  (seed, scenario hash, code hash) and status, invocations
    runs/<run id>.parquet         one finished run: its monthly series; KPIs, labels and identity in
                                  the file's Parquet metadata (key 'simsales.run'), so each file is
                                  complete on its own
    kpis.parquet, monthly.parquet consolidated tables a client may write at the end

Every file is written to a temporary name, flushed to disk and moved into place with
`os.replace`, so a killed process leaves either the old file or the new one, never half a file.
A run counts as finished when its Parquet file exists with the identity of the task asking for
it: a kill between the Parquet file and the manifest loses nothing.  A failed run has no file;
its manifest entry (status "failed", the error) is written at once.
"""

from __future__ import annotations

import json
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from simsales.errors import StoreInUse, StoreMismatch
from simsales.runs.tasks import STATUS_DONE, STATUS_FAILED, STATUS_PENDING, RunOutput, RunTask

META_KEY = b"simsales.run"
MANIFEST = "manifest.json"


class RunStore(ABC):
    """Keeps finished runs of one study; tells a client which of its tasks are already done."""

    def open(self, meta: dict[str, Any], tasks: Iterable[RunTask] = ()) -> dict[str, RunOutput]:
        """Start or resume the study `meta['name']`; returns the stored outputs (done or failed) of `tasks`."""
        self._start(meta)
        return self.lookup(tasks)

    @abstractmethod
    def _start(self, meta: dict[str, Any]) -> None:
        """Take the store for the study described by `meta`."""

    @abstractmethod
    def lookup(self, tasks: Iterable[RunTask], *, series: bool = True) -> dict[str, RunOutput]:
        """Stored outputs (done or failed) of those tasks whose identity matches; `series=False` skips monthly tables."""

    @abstractmethod
    def save(self, task: RunTask, output: RunOutput) -> None:
        """Keep one finished (or failed) run."""

    @abstractmethod
    def entries(self) -> dict[str, dict[str, Any]]:
        """Every stored run's record (labels, identity, status, timing) by run id."""

    @abstractmethod
    def log_invocation(self, entry: dict[str, Any]) -> None:
        """Record one invocation of the client (start time, minutes, new runs, command)."""

    @abstractmethod
    def invocations(self) -> list[dict[str, Any]]:
        """Logged invocations, oldest first."""

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op for stores that hold nothing open
        """Flush anything buffered and release the store."""

    def write_tables(self, kpis: pd.DataFrame, monthly: pd.DataFrame, extra: dict[str, Any] | None = None) -> None:  # noqa: B027
        """Keep consolidated result tables (no-op for stores without files)."""

    @property
    def folder(self) -> Path | None:
        """The results directory, if the store has one."""
        return None


class MemoryStore(RunStore):
    """Runs kept in a dict for the life of the object (re-using it resumes, like a directory)."""

    def __init__(self) -> None:
        self.runs: dict[str, tuple[dict[str, Any], RunOutput]] = {}
        self.meta: dict[str, Any] = {}
        self._invocations: list[dict[str, Any]] = []

    def _start(self, meta: dict[str, Any]) -> None:
        self.meta = meta

    def lookup(self, tasks: Iterable[RunTask], *, series: bool = True) -> dict[str, RunOutput]:
        """Stored outputs whose identity matches the task's."""
        found = {}
        for task in tasks:
            stored = self.runs.get(task.run_id)
            if stored is not None and task.matches(stored[0]):
                found[task.run_id] = stored[1]
        return found

    def save(self, task: RunTask, output: RunOutput) -> None:
        """Keep the output under its run id."""
        self.runs[task.run_id] = ({**task.record(), **output.timing()}, output)

    def entries(self) -> dict[str, dict[str, Any]]:
        """Records of the runs kept."""
        return {run_id: record for run_id, (record, _) in self.runs.items()}

    def log_invocation(self, entry: dict[str, Any]) -> None:
        """Remember the invocation."""
        self._invocations.append(dict(entry))

    def invocations(self) -> list[dict[str, Any]]:
        """Invocations logged on this object."""
        return list(self._invocations)


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

    def _start(self, meta: dict[str, Any]) -> None:
        """Lock the folder, clear half-written temporaries, check it holds this study, write the manifest."""
        (self._folder / "runs").mkdir(parents=True, exist_ok=True)
        self._take_lock()
        for tmp in self._folder.rglob("*.tmp-*"):
            tmp.unlink(missing_ok=True)
        old = _read_json(self._folder / MANIFEST)
        study = old.get("study", old.get("experiment", {}))
        if study.get("name") not in (None, meta.get("name")):
            self.close()
            raise StoreMismatch(
                f"{self._folder} holds {study.get('kind', 'experiment')} {study['name']!r}, not {meta.get('name')!r}: "
                "use another results directory"
            )
        created = study.get("created", _now())
        self.manifest = {
            "format": 2,
            "study": {**meta, "created": created, "updated": _now()},
            "runs": dict(old.get("runs", {})),
            "invocations": list(old.get("invocations", [])),
        }
        self._write_manifest()

    def lookup(self, tasks: Iterable[RunTask], *, series: bool = True) -> dict[str, RunOutput]:
        """Outputs of finished (Parquet file) and failed (manifest) runs with the task's identity; the rest marked pending."""
        runs = self.manifest.setdefault("runs", {})
        found: dict[str, RunOutput] = {}
        for task in tasks:
            output = self._read_run(task, series)
            entry = runs.get(task.run_id)
            if output is not None:
                found[task.run_id] = output
                if entry is None or entry.get("status") != STATUS_DONE or not task.matches(entry):
                    runs[task.run_id] = {**task.record(), **_status(output), "file": self._relative(task)}
                    self._dirty = True
            elif entry is not None and entry.get("status") == STATUS_FAILED and task.matches(entry):
                found[task.run_id] = RunOutput(task.run_id, STATUS_FAILED, {}, None, entry.get("error"), entry.get("seconds", 0.0))
            elif entry is None or not task.matches(entry) or entry.get("status") == STATUS_DONE:
                runs[task.run_id] = {**task.record(), "status": STATUS_PENDING}
                self._dirty = True
        return found

    def save(self, task: RunTask, output: RunOutput) -> None:
        """Write the run's Parquet file (if it finished), then its manifest entry."""
        entry = {**task.record(), **_status(output)}
        if output.status == STATUS_DONE and output.monthly is not None:
            meta = {**task.record(), **output.timing(), "kpis": output.kpis}
            table = pa.Table.from_pandas(output.monthly, preserve_index=False)
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), META_KEY: json.dumps(meta).encode()})
            path = self._path(task)
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, lambda tmp: pq.write_table(table, tmp))
            entry["file"] = self._relative(task)
        self.manifest.setdefault("runs", {})[task.run_id] = entry
        self._dirty = True
        if output.status != STATUS_DONE or time.monotonic() - self._last_write >= self.manifest_interval:
            self._write_manifest()

    def entries(self) -> dict[str, dict[str, Any]]:
        """Manifest records of every run (of this session's manifest, or of the folder's if not opened)."""
        manifest = self.manifest or _read_json(self._folder / MANIFEST)
        return dict(manifest.get("runs", {}))

    def log_invocation(self, entry: dict[str, Any]) -> None:
        """Append the invocation to the manifest (written at once)."""
        if not self.manifest:
            self.manifest = _read_json(self._folder / MANIFEST)
        self.manifest.setdefault("invocations", []).append(dict(entry))
        self._write_manifest()

    def invocations(self) -> list[dict[str, Any]]:
        """Invocations in the manifest, oldest first."""
        manifest = self.manifest or _read_json(self._folder / MANIFEST)
        return list(manifest.get("invocations", []))

    def close(self) -> None:
        """Write the manifest if it changed and release the lock."""
        if self._dirty:
            self._write_manifest()
        if self._lock is not None:
            self._lock.unlink(missing_ok=True)
            self._lock = None

    def write_tables(self, kpis: pd.DataFrame, monthly: pd.DataFrame, extra: dict[str, Any] | None = None) -> None:
        """Write kpis.parquet and monthly.parquet and add `extra` to the study's manifest entry."""
        atomic_write(self._folder / "kpis.parquet", lambda tmp: kpis.to_parquet(tmp, index=False))
        atomic_write(self._folder / "monthly.parquet", lambda tmp: monthly.to_parquet(tmp, index=False))
        if extra:
            self.manifest.setdefault("study", {}).update(extra)
            self._write_manifest()

    # --- internals ----------------------------------------------------------------------

    def _path(self, task: RunTask) -> Path:
        return self._folder / self._relative(task)

    def _relative(self, task: RunTask) -> str:
        return f"runs/{task.run_id}.parquet"

    def _read_run(self, task: RunTask, series: bool) -> RunOutput | None:
        path = self._path(task)
        if not path.is_file():
            return None
        try:
            if series:
                table = pq.read_table(path)
                schema = table.schema
            else:
                table, schema = None, pq.read_schema(path)
            meta = json.loads((schema.metadata or {})[META_KEY])
        except (OSError, KeyError, ValueError, pa.ArrowException):
            return None  # unreadable: run it again
        if not task.matches(meta):
            return None
        monthly = table.to_pandas() if table is not None else None
        return RunOutput(task.run_id, STATUS_DONE, {k: float(v) for k, v in meta["kpis"].items()}, monthly, None,
                         meta.get("seconds", 0.0), meta.get("cpu_seconds", 0.0), meta.get("code", ""), meta.get("finished", 0.0))

    def _write_manifest(self) -> None:
        self.manifest.setdefault("study", {})["updated"] = _now()
        counts: dict[str, int] = {}
        for entry in self.manifest.get("runs", {}).values():
            status = entry.get("status", STATUS_PENDING)
            counts[status] = counts.get(status, 0) + 1
        self.manifest["status"] = counts
        text = json.dumps(self.manifest, indent=1, sort_keys=False, default=str)
        atomic_write_text(self._folder / MANIFEST, text)
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
                    raise StoreInUse(f"{self._folder} is in use by process {pid}") from None
                lock.unlink(missing_ok=True)  # left by a killed process
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(str(os.getpid()))
            self._lock = lock
            return
        raise StoreInUse(f"could not lock {self._folder}")


def make_store(out: RunStore | str | Path | None) -> RunStore:
    """A store from what the user gave: a store, a folder path, or None (memory)."""
    if isinstance(out, RunStore):
        return out
    if out is None:
        return MemoryStore()
    return DirectoryStore(out)


def atomic_write(path: str | Path, write: Callable[[str], Any]) -> None:
    """Write a file through `write(temporary path)`, fsync it, then `os.replace` it onto `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    write(str(tmp))
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write a UTF-8 text file atomically (see `atomic_write`)."""
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def _status(output: RunOutput) -> dict[str, Any]:
    return {**output.timing(), "seconds": round(output.seconds, 3), "cpu_seconds": round(output.cpu_seconds, 3),
            "version": _version()}


def _version() -> str:
    from simsales import __version__

    return __version__


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except ValueError:
        return {}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
