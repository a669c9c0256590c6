"""The attribution result table (DESIGN.md "Attribution result").

One row per (model, channel) in long format:

``model``, ``channel``, ``credit_conversions``, ``credit_value``, ``share``
    credit in conversions and in conversion value, and the channel's share of
    all credited conversions (``credit_conversions / total conversions``;
    shares sum to 1).
``ci_low``, ``ci_high``, ``share_ci_low``, ``share_ci_high``,
``value_ci_low``, ``value_ci_high``
    only when the model was fitted with ``ci`` set: percentile bootstrap
    intervals (:mod:`attribution._bootstrap`) on ``credit_conversions``, on
    ``share`` and on ``credit_value``.

Breakdown columns (segment, region, ...) are prepended by sliced runs
(:meth:`attribution.AttributionModel.attribute` with ``by=``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["RESULT_COLUMNS", "CI_COLUMNS", "make_result"]

RESULT_COLUMNS = ["model", "channel", "credit_conversions", "credit_value", "share"]
CI_COLUMNS = ["ci_low", "ci_high", "share_ci_low", "share_ci_high", "value_ci_low", "value_ci_high"]


def make_result(
    model: str,
    channels: tuple[str, ...] | list[str],
    credit_conversions: np.ndarray,
    credit_value: np.ndarray,
    intervals: dict[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Build the long result frame for one model.

    Parameters
    ----------
    model : value of the ``model`` column.
    channels : (K,) channel names.
    credit_conversions, credit_value : (K,) credits.
    intervals : optional mapping with the keys of :data:`CI_COLUMNS`, each (K,).
    """
    credit_conversions = np.asarray(credit_conversions, dtype=np.float64)
    total = credit_conversions.sum()
    share = credit_conversions / total if total > 0 else np.full(len(credit_conversions), np.nan)
    frame = pd.DataFrame(
        {
            "model": model,
            "channel": list(channels),
            "credit_conversions": credit_conversions,
            "credit_value": np.asarray(credit_value, dtype=np.float64),
            "share": share,
        }
    )
    if intervals is not None:
        for column in CI_COLUMNS:
            frame[column] = np.asarray(intervals[column], dtype=np.float64)
    return frame
