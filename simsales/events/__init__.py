"""Timeline of a run: shocks, strategy roll-outs and risk rules as data that move the model's levers."""

from simsales.events.timeline import Timeline

__all__ = ["Timeline"]
