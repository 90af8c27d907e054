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


#: Prefix naming a shipped file from anywhere: `extends = "shipped:baseline_2023"`.
SHIPPED_PREFIX = "shipped:"
#: Folders searched, in order, for a shipped name without a folder.
SHIPPED_SEARCH = ("experiments", "agents", "calibration")


def shipped_names() -> list[str]:
    """Names of the shipped TOML files, as `shipped:` accepts them (e.g. 'baseline_2023', 'risk_rules_talent')."""
    root = defaults_root()
    return sorted({p.stem for folder in SHIPPED_SEARCH for p in (root / folder).glob("*.toml")})


def shipped_file(name: str) -> Path | None:
    """The shipped file a name stands for, or None: 'baseline_2023', 'baseline_2023.toml',
    'shipped:baseline_2023' or 'shipped:agents/risk_rules_talent.toml'."""
    ref = name.removeprefix(SHIPPED_PREFIX).strip()
    if not ref:
        return None
    root = defaults_root()
    folders = [""] if "/" in ref else SHIPPED_SEARCH
    for folder in folders:
        for candidate in (ref, f"{ref}.toml"):
            path = root / folder / candidate if folder else root / candidate
            if path.is_file() and path.resolve().is_relative_to(root.resolve()):
                return path
    return None


def resolve_reference(folder: Path, ref: str) -> Path:
    """A file named inside another file: `shipped:NAME` from the shipped defaults, anything else
    relative to `folder` (the naming file's folder).  The result may not exist; callers check."""
    if ref.startswith(SHIPPED_PREFIX):
        found = shipped_file(ref)
        return found if found is not None else Path(ref)
    return (folder / ref).resolve()
