"""Events of a run: shocks, strategy roll-outs and risk rules as data that move the model's levers.

`EventPlan` (plan.py) places a scenario's events on its days, once and without a model;
`Timeline` (timeline.py) applies a plan to one model day by day; effects.py says what each kind
does to the levers, rules.py computes the month-end metrics risk rules watch.
"""

from simsales.events.plan import EventPlan
from simsales.events.timeline import Timeline

__all__ = ["EventPlan", "Timeline"]
