"""Calibration of simsales to the 2023 statistics: free parameters, SMM objective, samplers, checkpointed search.

Runs are kept, resumed and distributed by `simsales.runs` (the same layer experiments use).
Typical use is the command `simsales calibrate`; from Python::

    from simsales.calibration import build_setup, calibrate, write_outputs
    setup = build_setup(budget=96)
    calib = calibrate(setup, "calibration/checkpoint", jobs=2)

Experiments draw parameter uncertainty from the shipped ensemble with `load_ensemble()` /
`sample_ensemble()`.
"""

from simsales.calibration.api import Calibration, build_setup, calibrate, target_table
from simsales.calibration.engine import CalibrationInterrupted, SearchPlan, Setup, search
from simsales.calibration.ensemble import ensemble_overrides, load_ensemble, sample_ensemble
from simsales.calibration.fitted import load_fitted, load_unfitted_scenario
from simsales.calibration.objective import HuberLoss, Loss, Objective, QuadraticLoss
from simsales.calibration.outputs import write_outputs
from simsales.calibration.parameters import Parameter, ParameterSpace, load_parameters
from simsales.calibration.samplers import (
    LatinHypercubeSampler,
    LocalGaussianSampler,
    Sampler,
    SobolSampler,
    SurrogateSampler,
)
from simsales.calibration.targets import TargetSet, load_target_set

__all__ = [
    "Calibration",
    "CalibrationInterrupted",
    "HuberLoss",
    "LatinHypercubeSampler",
    "LocalGaussianSampler",
    "Loss",
    "Objective",
    "Parameter",
    "ParameterSpace",
    "QuadraticLoss",
    "Sampler",
    "SearchPlan",
    "Setup",
    "SobolSampler",
    "SurrogateSampler",
    "TargetSet",
    "build_setup",
    "calibrate",
    "ensemble_overrides",
    "load_ensemble",
    "load_fitted",
    "load_parameters",
    "load_target_set",
    "load_unfitted_scenario",
    "sample_ensemble",
    "search",
    "target_table",
    "write_outputs",
]
