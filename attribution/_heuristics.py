r"""Rule-based (heuristic) attribution: first, last, linear, U-shaped, time decay.

Every heuristic gives each touch ``t`` of a path a fraction :math:`f_t` of
that path's conversions and value, with :math:`\sum_{t \in \text{path}}
f_t = 1`, so credits always sum to the totals and are non-negative:

.. math::

    \text{credit}_c = \sum_i c_i \sum_{t \in i,\, ch(t) = c} f_t, \qquad
    \text{value}_c = \sum_i v_i \sum_{t \in i,\, ch(t) = c} f_t

with :math:`c_i, v_i` the conversions and value of path :math:`i` (null
journeys earn no credit). For a path of length :math:`L` and touch position
:math:`p = 0..L-1`:

* first touch: :math:`f = 1` at :math:`p = 0`;
* last touch: :math:`f = 1` at :math:`p = L - 1`;
* linear: :math:`f = 1/L` at every touch (a repeated channel earns once per
  touch: ``a > a > b`` gives ``a`` 2/3);
* position based (U-shaped) with weights :math:`w_F, w_L`: :math:`L = 1`:
  100 %; :math:`L = 2`: :math:`w_F/(w_F + w_L)` and :math:`w_L/(w_F + w_L)`
  (50/50 with the default 0.4/0.4); :math:`L \ge 3`: :math:`w_F` first,
  :math:`w_L` last, :math:`(1 - w_F - w_L)/(L - 2)` to each middle touch;
* time decay (path table): the touch :math:`k = L - 1 - p` positions before
  the conversion gets weight :math:`2^{-k/h}` (half-life :math:`h` in
  touches), normalised within the path. On a journey table
  (:meth:`TimeDecay.fit_journeys`) the weight is :math:`2^{-d/h_d}` with
  :math:`d` the days from the touch to the conversion.

First, last and linear reproduce ChannelAttribution's ``heuristic_models``
(``first_touch``, ``last_touch``, ``linear_touch``) exactly.

Implementation: ``_prepare`` lays out (touch channel, touch path, fraction)
arrays once; the core is one ``np.bincount`` per credit column, so a
bootstrap replicate costs two weighted bincounts.

References
----------
Google Analytics Help, "About attribution models" (first, last, linear,
position-based, time decay definitions).
Altomare, D. and Loris, D. (2023). ChannelAttribution: Markov model for
online multi-channel attribution (``heuristic_models``), version 2.x.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from attribution._base import AttributionModel, check_positive
from attribution._bootstrap import check_ci
from attribution._encoding import EncodedPaths, require_columns
from features.errors import ConfigError, DataValidationError

__all__ = ["FirstTouch", "LastTouch", "Linear", "PositionBased", "TimeDecay"]


def _show(value: object) -> str:
    """repr of a cell for messages, numpy scalars shown as Python values."""
    return repr(value.item() if isinstance(value, np.generic) else value)


class TouchFractions(NamedTuple):
    """Structural pre-computation shared by the heuristics.

    Either one credited touch per path (``lengths is None``: ``channel[i]``
    takes all of path ``i``) or every touch in CSR order (``lengths`` per
    path) with ``fraction`` per touch, or ``None`` for ``per_path_scale``
    (e.g. ``1/L``) spread over the path's touches.
    """

    channel: np.ndarray  # (n,) or (m,) channel codes
    lengths: np.ndarray | None  # (n,) touches per path, None = one touch per path
    fraction: np.ndarray | None  # (m,) share of the path's credit
    per_path_scale: np.ndarray | None  # (n,) share of every touch of the path
    n_channels: int


def _credit_fractions(
    prep: TouchFractions, conversions: np.ndarray, nulls: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    k = prep.n_channels
    out = []
    for weight in (conversions, values):
        if prep.lengths is not None:
            if prep.per_path_scale is not None:
                weight = np.repeat(weight * prep.per_path_scale, prep.lengths)
            else:
                weight = np.repeat(weight, prep.lengths) * prep.fraction
        out.append(np.bincount(prep.channel, weights=weight, minlength=k))
    return out[0], out[1]


def _positions(enc: EncodedPaths) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(path index, position from start, path length) of every touch."""
    lengths = enc.lengths
    path = enc.path_index
    position = np.arange(len(enc.codes), dtype=np.int64) - enc.offsets[:-1][path]
    return path, position, lengths[path]


class _Heuristic(AttributionModel):
    def _credit(self, prep, conversions, nulls, values):
        return _credit_fractions(prep, conversions, nulls, values)


class FirstTouch(_Heuristic):
    """All credit of a path to its first touch (see module docstring).

    Parameters
    ----------
    ci, n_boot, random_state
        Bootstrap settings, see :class:`attribution.AttributionModel`.
    """

    name = "first_touch"

    def __init__(self, *, ci: float | None = None, n_boot: int = 200, random_state=None):
        self.ci = ci
        self.n_boot = n_boot
        self.random_state = random_state

    def _prepare(self, enc):
        return TouchFractions(enc.codes[enc.offsets[:-1]], None, None, None, enc.n_channels)


class LastTouch(_Heuristic):
    """All credit of a path to its last touch (see module docstring).

    Parameters
    ----------
    ci, n_boot, random_state
        Bootstrap settings, see :class:`attribution.AttributionModel`.
    """

    name = "last_touch"

    def __init__(self, *, ci: float | None = None, n_boot: int = 200, random_state=None):
        self.ci = ci
        self.n_boot = n_boot
        self.random_state = random_state

    def _prepare(self, enc):
        return TouchFractions(enc.codes[enc.offsets[1:] - 1], None, None, None, enc.n_channels)


class Linear(_Heuristic):
    """Equal credit ``1/L`` to each of the ``L`` touches of a path.

    Parameters
    ----------
    ci, n_boot, random_state
        Bootstrap settings, see :class:`attribution.AttributionModel`.
    """

    name = "linear"

    def __init__(self, *, ci: float | None = None, n_boot: int = 200, random_state=None):
        self.ci = ci
        self.n_boot = n_boot
        self.random_state = random_state

    def _prepare(self, enc):
        return TouchFractions(enc.codes, enc.lengths, None, 1.0 / enc.lengths, enc.n_channels)


class PositionBased(_Heuristic):
    """U-shaped credit: ``first`` to the first touch, ``last`` to the last.

    Parameters
    ----------
    first, last : float, default 0.4 each
        Shares of the first and last touch for paths of 3+ touches; the
        middle touches share ``1 - first - last`` equally. A 1-touch path
        gives 100 %, a 2-touch path ``first/(first+last)`` and
        ``last/(first+last)`` (50/50 by default). Need ``first, last >= 0``,
        ``first + last <= 1`` and ``first + last > 0``.
    ci, n_boot, random_state
        Bootstrap settings, see :class:`attribution.AttributionModel`.
    """

    name = "position_based"

    def __init__(
        self,
        *,
        first: float = 0.4,
        last: float = 0.4,
        ci: float | None = None,
        n_boot: int = 200,
        random_state=None,
    ):
        self.first = first
        self.last = last
        self.ci = ci
        self.n_boot = n_boot
        self.random_state = random_state

    def _check_params(self):
        ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) and v >= 0
                 for v in (self.first, self.last))
        if not ok or self.first + self.last > 1 or self.first + self.last <= 0:
            raise ConfigError(
                f"{self.name}: first={self.first!r}, last={self.last!r} must be >= 0 with "
                "0 < first + last <= 1 (default 0.4, 0.4)"
            )

    def _prepare(self, enc):
        path, position, length = _positions(enc)
        first, last = float(self.first), float(self.last)
        middle = np.divide(1.0 - first - last, length - 2, out=np.zeros(len(length)), where=length > 2)
        fraction = middle
        two = length == 2
        fraction[two & (position == 0)] = first / (first + last)
        fraction[two & (position == 1)] = last / (first + last)
        long = length >= 3
        fraction[long & (position == 0)] = first
        fraction[long & (position == length - 1)] = last
        fraction[length == 1] = 1.0
        return TouchFractions(enc.codes, enc.lengths, fraction, None, enc.n_channels)


class TimeDecay(_Heuristic):
    """Credit decaying with distance to the conversion.

    Parameters
    ----------
    half_life : float, default 1.0
        Path tables: half-life in touches; the touch ``k`` positions before
        the conversion (``k = 0`` for the last touch) has weight
        ``0.5 ** (k / half_life)``, normalised within the path.
    half_life_days : float, default 7.0
        Journey tables (:meth:`fit_journeys`): half-life in days; a touch
        ``d`` days before the conversion has weight ``0.5 ** (d /
        half_life_days)``, normalised within the journey.
    ci, n_boot, random_state
        Bootstrap settings, see :class:`attribution.AttributionModel`.
    """

    name = "time_decay"

    def __init__(
        self,
        *,
        half_life: float = 1.0,
        half_life_days: float = 7.0,
        ci: float | None = None,
        n_boot: int = 200,
        random_state=None,
    ):
        self.half_life = half_life
        self.half_life_days = half_life_days
        self.ci = ci
        self.n_boot = n_boot
        self.random_state = random_state

    def _check_params(self):
        check_positive(self.name, half_life=self.half_life, half_life_days=self.half_life_days)

    def _prepare(self, enc):
        path, position, length = _positions(enc)
        weight = np.exp2(-(length - 1 - position) / float(self.half_life))
        total = np.bincount(path, weights=weight, minlength=enc.n_paths)
        return TouchFractions(enc.codes, enc.lengths, weight / total[path], None, enc.n_channels)

    def fit_journeys(
        self,
        touches: pd.DataFrame,
        *,
        journey_col: str = "journey_id",
        channel_col: str = "channel",
        days_col: str = "days_to_conversion",
        converted_col: str = "converted",
        value_col: str | None = "conversion_value",
    ) -> "TimeDecay":
        """Fit on a journey (touch-level) table with a half-life in days.

        Parameters
        ----------
        touches : DataFrame, one row per touch with ``journey_id``,
            ``channel``, ``days_to_conversion`` (days from the touch to the
            journey's conversion, >= 0), ``converted`` (0/1 or bool) and
            ``conversion_value``; other columns (``timestamp``...) are
            ignored. ``converted`` and ``conversion_value`` are journey
            attributes: the maximum over a journey's rows is used, so they may
            be repeated on every row or set on one. ``days_to_conversion`` is
            only read on converted journeys (it may be NaN elsewhere).
        journey_col, channel_col, days_col, converted_col, value_col : names;
            ``value_col=None`` takes value = conversions.

        Returns
        -------
        self, with the same fitted attributes as :meth:`fit`. With ``ci`` set,
        the bootstrap resamples journeys (each journey is a path of count 1).
        """
        self._check_params()
        check_ci(self.ci, self.n_boot, self.name)
        require_columns(touches, "journey", (journey_col, channel_col, days_col, converted_col, value_col), self.name)
        if len(touches) == 0:
            raise DataValidationError(f"{self.name}: the journey table is empty; nothing to attribute")
        channel = touches[channel_col]
        bad = channel.isna().to_numpy() | (channel.astype(str).str.strip() == "").to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataValidationError(f"{self.name}: column {channel_col!r} row {row} has an empty channel name")
        journey, _ = pd.factorize(touches[journey_col], use_na_sentinel=False)
        names = channel.astype(str).str.strip()
        codes, channels = pd.factorize(names, sort=True)
        n_journeys = int(journey.max()) + 1

        def column(col: str) -> np.ndarray:
            values = pd.to_numeric(touches[col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            return values

        converted_row = column(converted_col)
        if not np.isfinite(converted_row).all() or ((converted_row != 0) & (converted_row != 1)).any():
            row = int(np.flatnonzero(~np.isin(converted_row, (0.0, 1.0)))[0])
            raise DataValidationError(
                f"{self.name}: column {converted_col!r} row {row}: {_show(touches[converted_col].iloc[row])} "
                "is not 0/1 or a boolean"
            )
        converted = np.zeros(n_journeys)
        np.maximum.at(converted, journey, converted_row)
        if value_col is None:
            value = converted.copy()
        else:
            value_row = column(value_col)
            on_conv = converted[journey] > 0
            bad = on_conv & (~np.isfinite(value_row) | (value_row < 0))
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise DataValidationError(
                    f"{self.name}: column {value_col!r} row {row}: {_show(touches[value_col].iloc[row])} "
                    "must be a finite number >= 0 on a converted journey"
                )
            value = np.zeros(n_journeys)
            np.maximum.at(value, journey, np.where(np.isfinite(value_row), value_row, 0.0))
            value *= converted > 0
        if converted.sum() <= 0:
            raise DataValidationError(
                f"{self.name}: no journey converted (column {converted_col!r}); there is nothing to credit"
            )
        days = column(days_col)
        on_conv = converted[journey] > 0
        bad = on_conv & (~np.isfinite(days) | (days < 0))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataValidationError(
                f"{self.name}: column {days_col!r} row {row}: {_show(touches[days_col].iloc[row])} must be "
                "a finite number of days >= 0 on a converted journey"
            )
        # shift by the journey's smallest delay: same fractions, no underflow
        nearest = np.full(n_journeys, np.inf)
        np.minimum.at(nearest, journey[on_conv], days[on_conv])
        delay = np.where(on_conv, days - nearest[journey], 0.0)
        weight = np.where(on_conv, np.exp2(-delay / float(self.half_life_days)), 0.0)
        total = np.bincount(journey, weights=weight, minlength=n_journeys)
        fraction = np.divide(weight, total[journey], out=np.zeros(len(weight)), where=total[journey] > 0)
        # rows in journey order so that np.repeat over journeys lines up
        order = np.argsort(journey, kind="stable")
        prep = TouchFractions(
            codes.astype(np.int64)[order],
            np.bincount(journey, minlength=n_journeys),
            fraction[order],
            None,
            len(channels),
        )
        self._fit_prepared(prep, tuple(str(c) for c in channels), converted, 1.0 - converted, value)
        return self
