"""Experiments and stress tests: arms x replicates with common random numbers, run anywhere, nothing lost.

    from simsales.experiments import Arm, Experiment, run_experiment
    exp = Experiment("nev_taste", arms=(Arm("baseline"), Arm("wtp_up", params={"population.nev_wtp_mean": 0.2})),
                     replicates=8, n_consumers=20_000, days=120)
    result = run_experiment(exp, out="out/nev_taste")      # resumable results directory
    result.differences()                                   # paired differences with 95% CIs

Runs are kept, resumed and distributed by `simsales.runs`.  The same objects come from `load_experiment("experiments/exp_*.toml")` and `simsales experiment FILE`.
"""

from simsales.experiments.designs import full_factorial, latin_hypercube, sobol_points
from simsales.experiments.engine import ArmTask, plan, run_experiment
from simsales.experiments.files import load_experiment
from simsales.experiments.results import ExperimentResult
from simsales.experiments.sensitivity import SensitivityDesign
from simsales.experiments.spec import HEADLINE_KPIS, Adaptive, Arm, Experiment, Threshold
from simsales.runs import (  # the run layer, re-exported: experiments run through it
    DaskExecutor,
    DirectoryStore,
    JoblibExecutor,
    MemoryStore,
    RunStore,
    SerialExecutor,
    local_cluster,
    make_executor,
    replicate_seeds,
)

__all__ = [
    "HEADLINE_KPIS",
    "Adaptive",
    "Arm",
    "ArmTask",
    "DaskExecutor",
    "DirectoryStore",
    "Experiment",
    "ExperimentResult",
    "JoblibExecutor",
    "MemoryStore",
    "RunStore",
    "SensitivityDesign",
    "SerialExecutor",
    "Threshold",
    "full_factorial",
    "latin_hypercube",
    "load_experiment",
    "local_cluster",
    "make_executor",
    "plan",
    "replicate_seeds",
    "run_experiment",
    "sobol_points",
]
