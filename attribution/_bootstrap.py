"""Bootstrap intervals for every attribution model, without re-encoding.

Resampling scheme (multinomial over journeys)
---------------------------------------------
The path table is a table of counts of journeys: path ``i`` was followed by
``c_i`` converting and ``u_i`` non-converting journeys, ``N = sum_i (c_i +
u_i)`` journeys in all. One replicate redraws the ``2 n`` cell counts
(path x outcome) jointly from

.. math:: (c^*, u^*) \\sim \\mathrm{Multinomial}\\big(N, (c, u) / N\\big),

i.e. it resamples ``N`` journeys with replacement. Conversion value moves
with conversions at each path's mean value per conversion, ``v^*_i = c^*_i
v_i / c_i``. Fractional counts are allowed in the table; ``N`` is then
rounded to the nearest integer (cells keep their proportions). Only the
weights change: every model's structural pre-computation (``_prepare``) is
reused and its array core (``_credit``) runs once per replicate.

Intervals are percentile intervals: for ``ci = 1 - alpha`` the bounds are
the ``alpha / 2`` and ``1 - alpha / 2`` quantiles over replicates of
``credit_conversions``, of ``share`` and of ``credit_value``. A replicate
that draws no conversion at all (possible only for tiny tables) carries no
shares; it is redrawn.

References
----------
Efron, B. and Tibshirani, R. (1993). *An Introduction to the Bootstrap*,
ch. 13 (percentile intervals). Chapman & Hall.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from features.errors import ConfigError

__all__ = ["multinomial_weights", "bootstrap_intervals"]


def multinomial_weights(
    conversions: np.ndarray,
    nulls: np.ndarray,
    values: np.ndarray,
    n_boot: int,
    rng: np.random.Generator,
):
    """Yield ``n_boot`` resampled ``(conversions, nulls, values)`` triples.

    Parameters
    ----------
    conversions, nulls, values : (n_paths,) float64 observed weights.
    n_boot : number of replicates.
    rng : numpy Generator (the only source of randomness).
    """
    n = len(conversions)
    cells = np.concatenate([conversions, nulls])
    live = np.flatnonzero(cells > 0)  # zero cells stay zero: draw only the others
    p = cells[live] / cells[live].sum()
    total = int(np.rint(cells.sum()))
    per_conversion = np.divide(values, conversions, out=np.zeros(n), where=conversions > 0)
    done = 0
    while done < n_boot:
        draw = np.zeros(2 * n)
        draw[live] = rng.multinomial(total, p)
        conv, null = draw[:n], draw[n:]
        if conv.sum() <= 0:
            continue
        done += 1
        yield conv, null, conv * per_conversion


def bootstrap_intervals(
    credit: Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    conversions: np.ndarray,
    nulls: np.ndarray,
    values: np.ndarray,
    *,
    ci: float,
    n_boot: int,
    random_state: int | np.random.Generator | None,
    model: str = "attribution",
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Percentile intervals of a credit function over multinomial replicates.

    Parameters
    ----------
    credit : ``(conversions, nulls, values) -> (credit_conv, credit_value)``,
        both (K,); the model's array core with its structure bound.
    conversions, nulls, values : (n_paths,) observed weights.
    ci : interval coverage in (0, 1), e.g. 0.95.
    n_boot : number of replicates (>= 2).
    random_state : seed or Generator.
    model : name used in error messages.

    Returns
    -------
    intervals : dict with ``ci_low``, ``ci_high`` (credit_conversions),
        ``share_ci_low``, ``share_ci_high``, ``value_ci_low``,
        ``value_ci_high``, each (K,).
    replicates : (n_boot, K) credit_conversions of every replicate.
    """
    check_ci(ci, n_boot, model)
    rng = np.random.default_rng(random_state)
    conv_reps, value_reps = [], []
    for c, u, v in multinomial_weights(conversions, nulls, values, n_boot, rng):
        cc, cv = credit(c, u, v)
        conv_reps.append(cc)
        value_reps.append(cv)
    conv_reps = np.vstack(conv_reps)
    value_reps = np.vstack(value_reps)
    shares = conv_reps / conv_reps.sum(axis=1, keepdims=True)
    q = [(1 - ci) / 2, 1 - (1 - ci) / 2]
    lo_c, hi_c = np.quantile(conv_reps, q, axis=0)
    lo_s, hi_s = np.quantile(shares, q, axis=0)
    lo_v, hi_v = np.quantile(value_reps, q, axis=0)
    intervals = {
        "ci_low": lo_c,
        "ci_high": hi_c,
        "share_ci_low": lo_s,
        "share_ci_high": hi_s,
        "value_ci_low": lo_v,
        "value_ci_high": hi_v,
    }
    return intervals, conv_reps


def check_ci(ci: float | None, n_boot: int, model: str) -> None:
    """Refuse a coverage outside (0, 1) or fewer than 2 replicates."""
    if ci is None:
        return
    if not (isinstance(ci, (int, float)) and 0 < float(ci) < 1):
        raise ConfigError(f"{model}: ci={ci!r} must be a coverage in (0, 1), e.g. 0.95, or None")
    if not (isinstance(n_boot, (int, np.integer)) and n_boot >= 2):
        raise ConfigError(f"{model}: n_boot={n_boot!r} must be an integer >= 2 when ci is set")
