"""`simsales validate FILE...` and `simsales show FILE`: check scenario files and print one resolved."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from simsales.scenario import ScenarioError, load_scenario
from simsales.scenario.bounds import memory_problem
from simsales.scenario.toml_out import dumps


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `validate` and `show` subcommands."""
    p = sub.add_parser(
        "validate", help="check scenario files (keys, types, ranges, names, dates, memory for their size) without simulating"
    )
    p.add_argument("files", nargs="+", type=Path, help="scenario TOML files")
    p.set_defaults(func=validate)
    p = sub.add_parser("show", help="print a scenario file resolved (extends, section files, fitted values) as TOML")
    p.add_argument("file", nargs="?", type=Path, default=None, help="scenario TOML file (default: shipped baseline)")
    p.set_defaults(func=show)


def validate(args: argparse.Namespace) -> int:
    """Load each file and build (not run) a small copy of its model, so build-time checks run too, and
    check that its real size fits in the memory available now; 2 if any is invalid."""
    from simsales.model import MarketModel

    failed = 0
    for file in args.files:
        try:
            scenario = load_scenario(file)
            problem = memory_problem(scenario)
            if problem:
                raise ScenarioError(problem, file=str(file), key="run.n_consumers")
            MarketModel(scenario=scenario.replace(**{"run.n_consumers": min(scenario.run.n_consumers, 2000)}))
        except ScenarioError as exc:
            failed += 1
            if exc.file != str(file) and not (exc.file and Path(exc.file).exists()):  # found in the built model
                exc = ScenarioError(exc.detail, file=str(file), key=exc.key)
            print(f"error: {exc}", file=sys.stderr)
            continue
        first = scenario.run.start_date.isoformat()
        print(
            f"ok: {file} — '{scenario.name}', {scenario.run.days} days from {first} "
            f"({len(scenario.shocks)} shocks, {len(scenario.strategies)} strategies, {len(scenario.risk_rules)} risk rules)"
        )
    return 2 if failed else 0


def show(args: argparse.Namespace) -> int:
    """Print the resolved scenario as TOML."""
    scenario = load_scenario(args.file)
    print(f"# {args.file or 'shipped baseline'} resolved: extends, section files and fitted values applied")
    print(dumps(scenario.to_dict()))
    return 0
