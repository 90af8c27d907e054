"""The errors simsales raises on purpose, so callers (and the command line) can catch them and nothing else.

    SimsalesError
     +-- InputError      bad input, found before any simulation: names the file (or flag) and the key path
     |    +-- ScenarioError   (simsales.scenario) a scenario, experiment spec, target or parameter file
     +-- StoreError      a results directory or checkpoint that cannot be used as asked
          +-- StoreInUse      another live process holds it
          +-- StoreMismatch   it holds another study

Each also derives from the built-in error its meaning matches (ValueError, RuntimeError), so
code that caught those before still does.
"""

from __future__ import annotations


class SimsalesError(Exception):
    """Base of every error simsales raises on purpose (anything else is a bug)."""


class InputError(SimsalesError, ValueError):
    """Input refused before any simulation; the message starts with the file (or flag) and the key path."""

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None) -> None:
        self.file = file
        self.key = key
        self.detail = message
        prefix = ": ".join(str(part) for part in (file, key) if part)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class StoreError(SimsalesError):
    """A results directory or checkpoint that cannot be used as asked."""


class StoreInUse(StoreError, RuntimeError):
    """The results directory is locked by another live process."""


class StoreMismatch(StoreError, ValueError):
    """The results directory holds another study (another experiment, or a calibration)."""
