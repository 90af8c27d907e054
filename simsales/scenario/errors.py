"""The error for bad input files (scenarios, experiment specs, targets, parameters): file, key path, what is allowed."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from simsales.errors import InputError


class ScenarioError(InputError):
    """Raised before any simulation starts when a scenario, experiment spec or calibration input is invalid.

    An `InputError` (see `simsales.errors`): the message names the file and the key path.
    """


def did_you_mean(word: str, allowed: Iterable[str]) -> str:
    """A ' (did you mean X?)' hint, or '' when nothing is close."""
    close = difflib.get_close_matches(word, list(allowed), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
