"""Checks of command-line input made before any simulation starts, each naming the flag it refuses.

Integer flags use the argparse types below (argparse then prints `argument --seed: ...` and exits
with code 2); folders and memory are checked by the commands right after parsing, so a bad
`--out` or an impossible `--consumers` is reported in a second, not after an hour of simulation.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from simsales.errors import InputError  # a refused command-line value: the message names the flag
from simsales.scenario.bounds import BASE_BYTES, BYTES_PER_CONSUMER, MAX_CONSUMERS, MAX_HORIZON_DAYS, available_bytes

if TYPE_CHECKING:
    from simsales.runs import Executor

#: Recorder memory per simulated day (about 90 daily float64 counters, with headroom).
BYTES_PER_DAY = 1024



#: Longest horizon a day-count flag accepts: the scenario schema's bound (simsales.scenario.bounds).
MAX_DAYS = MAX_HORIZON_DAYS


def _integer(text: str, minimum: int, maximum: int | None = None) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise argparse.ArgumentTypeError(f"must be <= {maximum:,}, got {value:,}")
    return value


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1 (replicates, workers, jobs, budget, days, consumers)."""
    return _integer(text, 1)


def nonneg_int(text: str) -> int:
    """argparse type: a whole number >= 0 (seeds, optional stages that 0 switches off)."""
    return _integer(text, 0)


def consumer_count(text: str) -> int:
    """argparse type: consumer agents, 1 to the schema's MAX_CONSUMERS."""
    return _integer(text, 1, MAX_CONSUMERS)


def day_count(text: str) -> int:
    """argparse type: recorded days, 1 to MAX_DAYS."""
    return _integer(text, 1, MAX_DAYS)


def warmup_day_count(text: str) -> int:
    """argparse type: warm-up days, 0 to MAX_DAYS."""
    return _integer(text, 0, MAX_DAYS)


def writable_folder(path: Path | None, flag: str = "--out") -> Path | None:
    """Create `path` as a folder (if needed) and prove a file can be written in it; refuse an
    existing file or an unwritable place with an `InputError` naming `flag`."""
    if path is None:
        return None
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{flag} {folder}: is an existing file, not a folder; give a folder path")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".simsales-write-check-"):
            pass
    except OSError as exc:
        raise InputError(f"{flag} {folder}: cannot write there ({exc.strerror or exc})") from None
    return folder


def shipped_or_out(out: Path | None, update_shipped: bool, default: Path, what: str, sub: str = "") -> Path:
    """Where a command that can replace shipped data writes: --out, else `default`; the shipped
    calibration/ folder (or its `sub` folder) only with --update-shipped, never by naming it in --out."""
    from simsales._paths import default_file

    shipped = default_file("calibration")
    if update_shipped:
        if out is not None:
            raise InputError("--update-shipped writes to the shipped calibration folder; do not combine it with --out")
        return shipped / sub if sub else shipped
    folder = out if out is not None else default
    if Path(folder).resolve() in {shipped.resolve(), (shipped / "holdout").resolve()}:
        raise InputError(f"--out {folder}: is the shipped calibration folder; add --update-shipped to replace the shipped {what}")
    return Path(folder)


def memory_estimate(n_consumers: int, days: int = 0, runs_at_once: int = 1) -> int:
    """Estimated peak bytes of `runs_at_once` simultaneous runs of `n_consumers` consumers over `days` days."""
    return int(runs_at_once * (BASE_BYTES + BYTES_PER_CONSUMER * int(n_consumers) + BYTES_PER_DAY * int(days)))


def check_memory(n_consumers: int, days: int = 0, runs_at_once: int = 1, flags: tuple[str, str] = ("--consumers", "--days")) -> str:
    """Refuse a size whose estimated memory exceeds what is available, naming the flag (consumers or days)
    that drives it; returns a note for runs above 1 GiB ('' otherwise)."""
    need = memory_estimate(n_consumers, days, runs_at_once)
    have = available_bytes()
    gib = 2**30
    runs = f" x {runs_at_once} runs at once" if runs_at_once > 1 else ""
    if have is not None and need > have:
        by_days = BYTES_PER_DAY * int(days) > BYTES_PER_CONSUMER * int(n_consumers)
        flag, value = (flags[1], f"{days:,} simulated days") if by_days else (flags[0], f"{n_consumers:,} consumers")
        raise InputError(
            f"{flag}: {value} need about {need / gib:.1f} GiB of memory{runs}, {have / gib:.1f} GiB is available; "
            "use a smaller size (or fewer parallel runs)"
        )
    return f"estimated memory: {need / gib:.1f} GiB{runs}" if need > gib else ""


#: Seconds to wait for a Dask scheduler before refusing --scheduler.
SCHEDULER_TIMEOUT = 10.0


def connect_executor(workers: int | None, scheduler: str | None) -> Executor:
    """Local worker processes, or a Dask client connected now, so an unreachable --scheduler is refused before any run."""
    from simsales.runs import DaskExecutor, make_executor

    if scheduler is None:
        return make_executor(workers)
    try:
        return DaskExecutor(address=scheduler, timeout=SCHEDULER_TIMEOUT)
    except ImportError as exc:
        raise InputError(f"--scheduler: {exc}") from None
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"--scheduler {scheduler}: cannot connect ({type(exc).__name__}: {exc})") from None
