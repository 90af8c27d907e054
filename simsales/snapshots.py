"""Model snapshots: save a running `MarketModel` and continue it later, bit-identically.

Why: every arm and replicate of an experiment repeats the same warm-up (545 days by default)
before its first event.  A snapshot taken at the end of a shared warm-up lets each arm start
from it instead, and a long run can be continued after it was stopped.

Format (version 3): one file, the ASCII line ``SIMSALES-SNAPSHOT 1`` (the file type), then one
line of JSON (``format``, ``simsales`` version, ``day``, ``date``, ``scenario``, ``n_consumers``),
then the model as a pickle (protocol 5).  The pickle holds the complete state: consumer, store
and salesperson arrays and agents, the timeline (`model.timeline`: its immutable `EventPlan` and
its run state: active events, costs and budgets so far, risk-rule streaks and log), the
random-number keys (`Streams`) and Mesa's generator, the recorder and the DataCollector.
Version 2 narrowed the consumers' day fields and made entry rates a table; version 3 splits the
timeline into plan and run state (older snapshots cannot run on).  Snapshots are for the same
simsales version and format: `load_snapshot` refuses another, because a pickle of one version's
classes may not mean the same in another (an experiment's warm-up of another format is simply
run again).  Load only files you made: unpickling
runs code.
"""

from __future__ import annotations

import itertools
import json
import os
import pickle
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mesa

import simsales

if TYPE_CHECKING:
    from simsales.model import MarketModel

MAGIC = b"SIMSALES-SNAPSHOT 1\n"
#: Version of the snapshot layout (the JSON header's ``format``); see the module docstring.
FORMAT = 4


class SnapshotError(ValueError):
    """A file that is not a snapshot this simsales can continue."""


def header_of(model: MarketModel) -> dict[str, Any]:
    """What a snapshot says about itself (readable without unpickling)."""
    return {
        "format": FORMAT,
        "simsales": simsales.__version__,
        "day": int(model.day),
        "date": model.date.isoformat(),
        "scenario": model.spec.name,
        "n_consumers": int(model.spec.run.n_consumers),
    }


def save_snapshot(model: MarketModel, path: str | Path) -> Path:
    """Write `model`'s complete state to `path` atomically (a temporary file, then a rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC)
            f.write(json.dumps(header_of(model)).encode() + b"\n")
            pickle.dump(model, f, protocol=5)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_header(path: str | Path) -> dict[str, Any]:
    """The JSON header of a snapshot file (no unpickling)."""
    with open(path, "rb") as f:
        return _header(f, Path(path))


def _header(f: Any, path: Path) -> dict[str, Any]:
    if f.read(len(MAGIC)) != MAGIC:
        raise SnapshotError(f"{path}: not a simsales snapshot (it does not start with {MAGIC.strip().decode()!r})")
    header = json.loads(f.readline())
    if header.get("format") != FORMAT or header.get("simsales") != simsales.__version__:
        raise SnapshotError(
            f"{path}: snapshot of format {header.get('format')} from simsales {header.get('simsales')}; "
            f"this is simsales {simsales.__version__} (format {FORMAT}): re-run the warm-up"
        )
    return header


def load_snapshot(path: str | Path) -> MarketModel:
    """The model saved in `path`, ready to `step()` on from the day it was saved."""
    path = Path(path)
    with open(path, "rb") as f:
        _header(f, path)
        model = pickle.load(f)
    _register_agent_ids(model)
    return model


def _register_agent_ids(model: MarketModel) -> None:
    """Mesa 3.3 counts agent ids per model in a class-level table: continue the restored model's count."""
    ids = getattr(mesa.Agent, "_ids", None)
    if isinstance(ids, dict):
        last = max((agent.unique_id for agent in model.agents), default=0)
        ids[model] = itertools.count(last + 1)
