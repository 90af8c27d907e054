"""Products, prices after policy, and the logit choice rule."""

from simsales.market.catalogue import Catalogue
from simsales.market.choice import choose_by_weights, logit_choice
from simsales.market.policy import PolicyState

__all__ = ["Catalogue", "PolicyState", "choose_by_weights", "logit_choice"]
