"""Estimator wrappers around the Shapley functions of :mod:`attribution._shapley`.

The maths (games, exact and Monte Carlo algorithms, references) is in
:mod:`attribution._shapley`; these classes give the functions the shared
estimator contract (:class:`attribution.AttributionModel`): validation,
result frame, registry names and bootstrap intervals (the functions accept
per-path weight overrides, so a replicate does not re-encode anything).
"""

from __future__ import annotations

import numpy as np

from attribution._base import AttributionModel
from attribution._shapley import ordered_shapley, shapley_rate, simplified_shapley
from features.errors import ConfigError

__all__ = ["Shapley", "ShapleyRate", "ShapleyOrdered"]


class Shapley(AttributionModel):
    """Simplified Shapley value (Zhao et al., 2018): ``phi_i = sum_{T ni i} c_T / |T|``.

    Each converting journey gives ``1/|T|`` of its conversions (and value)
    to each distinct channel it touched; see :func:`attribution._shapley.simplified_shapley`.

    Parameters
    ----------
    ci, n_boot, random_state
        Bootstrap settings, see :class:`attribution.AttributionModel`.

    References
    ----------
    Zhao, K., Mahboobi, S. H. and Bagheri, S. R. (2018). Shapley value
    methods for attribution modeling in online advertising. arXiv:1804.05327.
    """

    name = "shapley"

    def __init__(self, *, ci: float | None = None, n_boot: int = 200, random_state=None):
        self.ci = ci
        self.n_boot = n_boot
        self.random_state = random_state

    def _credit(self, prep, conversions, nulls, values):
        return simplified_shapley(prep, conversions=conversions, nulls=nulls, values=values)


class ShapleyOrdered(Shapley):
    """Ordered Shapley value (Zhao et al., 2018, section 4).

    Channel credits equal :class:`Shapley`'s; the split over touch positions
    is stored in ``position_credits_`` (columns ``channel``, ``position``,
    ``credit_conversions``, ``credit_value``); see
    :func:`attribution._shapley.ordered_shapley`.

    Parameters
    ----------
    ci, n_boot, random_state
        Bootstrap settings, see :class:`attribution.AttributionModel`.
    """

    name = "shapley_ordered"

    def _finish(self, prep) -> None:
        self.position_credits_ = ordered_shapley(prep)


class ShapleyRate(AttributionModel):
    """Shapley value of the conversion-rate game, scaled to the totals.

    See :func:`attribution._shapley.shapley_rate`. Credits **can be
    negative** (the rate game is not monotone).

    Parameters
    ----------
    game : {"journey", "global"}, default "journey"
    max_exact_channels : int, default 20
        Exact up to this many channels, Monte Carlo above.
    n_permutations : int, default 2000
        Monte Carlo permutations (>= 2).
    ci, n_boot : bootstrap settings, see :class:`attribution.AttributionModel`.
    random_state : seed of the Monte Carlo permutations and of the bootstrap.

    Attributes
    ----------
    std_err_ : ndarray (2, K) or None
        Monte Carlo standard errors (conversions, value); None when exact.
    """

    name = "shapley_rate"
    nonnegative = False

    def __init__(
        self,
        *,
        game: str = "journey",
        max_exact_channels: int = 20,
        n_permutations: int = 2000,
        ci: float | None = None,
        n_boot: int = 200,
        random_state=None,
    ):
        self.game = game
        self.max_exact_channels = max_exact_channels
        self.n_permutations = n_permutations
        self.ci = ci
        self.n_boot = n_boot
        self.random_state = random_state

    def _check_params(self):
        if self.game not in ("journey", "global"):
            raise ConfigError(f"{self.name}: game={self.game!r} must be 'journey' or 'global'")
        if not (isinstance(self.n_permutations, (int, np.integer)) and self.n_permutations >= 2):
            raise ConfigError(f"{self.name}: n_permutations={self.n_permutations!r} must be an integer >= 2")
        if not (isinstance(self.max_exact_channels, (int, np.integer)) and 1 <= self.max_exact_channels <= 26):
            raise ConfigError(
                f"{self.name}: max_exact_channels={self.max_exact_channels!r} must be an integer in [1, 26]"
            )

    def _estimate(self, prep, conversions, nulls, values):
        return shapley_rate(
            prep,
            game=self.game,
            max_exact_channels=int(self.max_exact_channels),
            n_permutations=int(self.n_permutations),
            random_state=self.random_state,
            conversions=conversions,
            nulls=nulls,
            values=values,
        )

    def _credit(self, prep, conversions, nulls, values):
        estimate = self._estimate(prep, conversions, nulls, values)
        return estimate.conversions, estimate.value

    def _point_credit(self, prep, conversions, nulls, values):
        estimate = self._estimate(prep, conversions, nulls, values)
        self.std_err_ = estimate.std_err
        return estimate.conversions, estimate.value
