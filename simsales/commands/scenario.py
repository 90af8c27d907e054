"""`simsales validate FILE...` and `simsales show FILE`: check scenario files (or experiment specs) and print one resolved.

A file that names a design ([[arms]], [factors], [sample] or [sensitivity]) is an experiment spec
and is checked as one: its keys, every arm's scenario resolved and validated, the memory of its
largest run.  Anything else is a scenario.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from simsales.scenario import ScenarioError, load_scenario
from simsales.scenario.bounds import memory_problem
from simsales.scenario.loader import find_scenario, read_toml
from simsales.scenario.toml_out import dumps


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `validate` and `show` subcommands."""
    p = sub.add_parser(
        "validate", help="check scenario files (keys, types, ranges, names, dates, memory for their size) without simulating"
    )
    p.add_argument("files", nargs="+", type=Path, help="scenario TOML files or experiment specs (paths or shipped names)")
    p.set_defaults(func=validate)
    p = sub.add_parser("show", help="print a scenario file resolved (extends, section files, fitted values) as TOML, "
                       "or an experiment spec's resolved arms")
    p.add_argument("file", nargs="?", type=Path, default=None, help="scenario TOML file or experiment spec (default: shipped baseline)")
    p.set_defaults(func=show)


def validate(args: argparse.Namespace) -> int:
    """Load each file and build (not run) a small copy of its model, so build-time checks run too, and
    check that its real size fits in the memory available now; 2 if any is invalid."""
    from simsales.model import MarketModel

    failed = 0
    for file in args.files:
        if _is_spec(file):
            failed += _validate_spec(file)
            continue
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


def _is_spec(file: Path) -> bool:
    """True when the file (a path or shipped name) is an experiment spec; unreadable files are left to the scenario path."""
    try:
        from simsales.experiments.files import is_experiment_spec

        return is_experiment_spec(read_toml(find_scenario(file)))
    except ScenarioError:
        return False


def _resolved_spec(file: Path) -> tuple[Any, list[Any]]:
    """The experiment and its planned runs (every arm's scenario resolved and validated)."""
    from simsales.experiments import load_experiment, plan

    experiment = load_experiment(find_scenario(file))
    return experiment, plan(experiment, replicates=1)


def _validate_spec(file: Path) -> int:
    """Check an experiment spec as a spec; 1 if invalid (message printed), else 0."""
    try:
        experiment, tasks = _resolved_spec(file)
        largest = max(tasks, key=lambda t: t.scenario.run.n_consumers * (t.scenario.run.days + t.scenario.run.warmup_days))
        problem = memory_problem(largest.scenario)
        if problem:
            raise ScenarioError(problem, file=experiment.source, key="run.n_consumers")
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"ok: {file} — experiment '{experiment.name}', {len(experiment.arms)} arms x "
          f"{experiment.replicates} replicates, baseline '{experiment.baseline_arm}'")
    return 0


def show(args: argparse.Namespace) -> int:
    """Print the resolved scenario as TOML, or an experiment spec's resolved arms."""
    if args.file is not None and _is_spec(args.file):
        experiment, tasks = _resolved_spec(args.file)
        arms = [{"name": t.arm, "scenario": t.scenario.name, "scenario_hash": t.scenario_hash,
                 "params": dict(experiment.arms[i].params)}
                for i, t in enumerate(tasks)]
        print(f"# {args.file} resolved: experiment spec, every arm's scenario validated")
        print(dumps({"name": experiment.name, "question": experiment.question, "replicates": experiment.replicates,
                     "root_seed": experiment.root_seed, "baseline": experiment.baseline_arm, "kpis": list(experiment.kpis),
                     "run": experiment.size_overrides(), "arms": arms}))
        return 0
    scenario = load_scenario(args.file)
    print(f"# {args.file or 'shipped baseline'} resolved: extends, section files and fitted values applied")
    print(dumps(scenario.to_dict()))
    return 0
