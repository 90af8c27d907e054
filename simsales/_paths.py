"""Where the shipped defaults live: the top-level agents/, experiments/ and calibration/ folders.

In a wheel they are packaged as `simsales/_defaults/<folder>` (hatch force-include); in a
source checkout or editable install the same files are read from the repository root.
One copy of each file, two ways of finding it.
"""

from __future__ import annotations

from pathlib import Path

DEFAULT_FOLDERS = ("agents", "experiments", "calibration")


def defaults_root() -> Path:
    """The folder holding agents/, experiments/ and calibration/ defaults."""
    package = Path(__file__).resolve().parent
    shipped = package / "_defaults"
    if (shipped / "experiments").is_dir():
        return shipped
    checkout = package.parent
    if (checkout / "experiments").is_dir() and (checkout / "pyproject.toml").is_file():
        return checkout
    raise FileNotFoundError("simsales defaults not found: reinstall the package")


def default_file(relative: str) -> Path:
    """A shipped default file, e.g. default_file('calibration/targets_2023.toml')."""
    return defaults_root() / relative


def default_scenario_path() -> Path:
    """The 2023 baseline scenario every run starts from when given nothing."""
    return default_file("experiments/baseline_2023.toml")
