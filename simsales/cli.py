"""`simsales` command line: a thin layer over the Python API.

Each subcommand lives in its own module under `simsales.commands` with `register(subparsers)`;
add a module name to COMMANDS to add a subcommand.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from simsales import __version__
from simsales.errors import SimsalesError

COMMANDS = (
    "simsales.commands.run",
    "simsales.commands.experiment",
    "simsales.commands.calibrate",
    "simsales.commands.responses",
    "simsales.commands.scenario",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(prog="simsales", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"simsales {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `simsales` script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SimsalesError as exc:  # bad input, a results directory in use or holding another study
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file or folder that cannot be read or written: name it, no traceback
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
