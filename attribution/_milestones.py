r"""Milestone heuristics on account journeys: W-shaped and full path.

These models need what a path table does not have (who touched, which
signal, when the opportunity was created or won), so they consume the
journey-level touch table of :func:`features.journeys.build_journeys`
(``Journeys.touches``) plus the ``opportunities`` table, through
:meth:`MilestoneModel.fit_journeys`. ``fit(paths)`` refuses a path table.

Milestones of a converting journey (account ``a``, opportunity ``o``)
--------------------------------------------------------------------
first touch ``F``
    the journey's first touch (``touch_order`` 1).
lead creation ``L``
    the first touch of the journey, at or before ``o.created_at``, made by an
    **identified contact** (``contact_id`` not null) with a **hand-raiser
    signal**: one of ``lead_signals``, by default ``content_download``,
    ``webinar_register``, ``webinar_attend``, ``event_attend``,
    ``demo_request``, ``direct_mail_response``, ``workshop_attend``. In ABM
    an account has no lead form; its "lead" is the first person of the
    buying committee who raises a hand, which is what this rule encodes.
opportunity creation ``O``
    the last touch at or before ``o.created_at``. (For
    ``conversion="opportunity_created"`` journeys, which end at
    ``created_at``, this is the journey's last touch.)
closed-won ``W`` (full path only)
    for a won opportunity, the last touch at or before ``o.closed_at``; it
    exists only in ``conversion="closed_won"`` journeys (the others end at
    opportunity creation), and only if that touch comes after ``O``
    (otherwise ``W`` would only repeat ``O``; it is then missing).

Weights
-------
W-shaped: :math:`w_F = w_L = w_O = 0.3`; full path: :math:`w_F = w_L = w_O
= w_W = 0.225`; the rest :math:`r = 1 - \sum_m w_m` (0.1) is shared
equally by the **other touches** (touches that are no present milestone).
Let :math:`P` be the milestones found in the journey and :math:`W_P =
\sum_{m \in P} w_m`:

* a **missing** milestone's weight goes to the present ones in proportion
  to their weights: milestone :math:`m \in P` gets :math:`w_m (1 - r) /
  W_P` (W-shaped without a lead touch: 0.45 first, 0.45 opportunity
  creation, 0.1 to the others);
* milestones that fall on the **same touch** add up on it (a one-touch
  journey gives 100 % to its touch);
* with **no other touch**, :math:`r` goes to the milestones too: each gets
  :math:`w_m / W_P`.

The first touch always exists, so :math:`W_P > 0`. Per-journey fractions
sum to 1; the journey's conversion and value are split by them. The share of
converting journeys in which each milestone was found is
``milestone_coverage_``.

References
----------
Salesforce / Bizible, "Attribution models" (first touch, lead creation,
opportunity creation: W-shaped; plus closed won: full path, 22.5 % each).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd

from attribution._base import AttributionModel
from attribution._encoding import require_columns
from attribution._bootstrap import check_ci
from attribution._heuristics import TouchFractions, _credit_fractions
from features.errors import ConfigError, DataValidationError

__all__ = ["MilestoneModel", "WShaped", "FullPath", "LEAD_SIGNALS"]

#: default hand-raiser signals that make a contact's touch a lead creation
LEAD_SIGNALS = (
    "content_download",
    "webinar_register",
    "webinar_attend",
    "event_attend",
    "demo_request",
    "direct_mail_response",
    "workshop_attend",
)


class MilestoneModel(AttributionModel):
    """Base of the milestone heuristics (module docstring)."""

    milestones: ClassVar[tuple[str, ...]] = ()

    def fit(self, paths, **columns):
        raise ConfigError(
            f"{self.name}: milestone models need touches and opportunities, not a path table; "
            "call fit_journeys(journeys.touches, opportunities)"
        )

    def attribute(self, paths, *, by=None, **columns):
        return self.fit(paths)

    def _credit(self, prep, conversions, nulls, values):
        return _credit_fractions(prep, conversions, nulls, values)

    def _weights(self) -> dict[str, float]:
        return {m: float(getattr(self, m)) for m in self.milestones}

    def _check_params(self) -> None:
        w = self._weights()
        ok = all(np.isfinite(v) and v >= 0 for v in w.values()) and 0 < sum(w.values()) <= 1 + 1e-12
        if not ok:
            raise ConfigError(
                f"{self.name}: milestone weights {w} must be >= 0 with 0 < sum <= 1"
            )
        if w["first"] <= 0:
            raise ConfigError(f"{self.name}: first={w['first']!r} must be > 0 (the one milestone always present)")
        signals = self.lead_signals
        if isinstance(signals, str) or not all(isinstance(s, str) for s in signals) or not len(signals):
            raise ConfigError(
                f"{self.name}: lead_signals={signals!r} must be a non-empty sequence of signal names"
            )

    def fit_journeys(
        self,
        touches: pd.DataFrame,
        opportunities: pd.DataFrame,
        *,
        journey_col: str = "journey_id",
        order_col: str = "touch_order",
        channel_col: str = "channel",
        time_col: str = "timestamp",
        signal_col: str = "signal",
        contact_col: str = "contact_id",
        opportunity_col: str = "opportunity_id",
        converted_col: str = "converted",
        value_col: str | None = "conversion_value",
    ) -> "MilestoneModel":
        """Fit on the journey touch table and the opportunities.

        Parameters
        ----------
        touches : DataFrame, one row per touch (``Journeys.touches``).
        opportunities : DataFrame with ``opportunity_id``, ``created_at``,
            ``closed_at`` and ``is_won`` (the last two only for ``full_path``).
        journey_col, order_col, channel_col, time_col, signal_col,
        contact_col, opportunity_col, converted_col, value_col
            Column names of ``touches``; ``value_col=None``: value =
            conversions.

        Returns
        -------
        self, with ``milestone_coverage_`` (share of converting journeys in
        which each milestone was found) besides the usual fitted state. With
        ``ci`` set, the bootstrap resamples journeys.
        """
        self._check_params()
        check_ci(self.ci, self.n_boot, self.name)
        cols = [journey_col, order_col, channel_col, time_col, signal_col, contact_col, opportunity_col,
                converted_col] + ([value_col] if value_col else [])
        require_columns(touches, "touches", cols, self.name)
        opp_cols = ["opportunity_id", "created_at"] + (["closed_at", "is_won"] if "won" in self.milestones else [])
        require_columns(opportunities, "opportunities", opp_cols, self.name)
        if len(touches) == 0:
            raise DataValidationError(f"{self.name}: the touch table is empty; nothing to attribute")
        t = touches.sort_values([journey_col, order_col], kind="stable")
        journey, _ = pd.factorize(t[journey_col], sort=False)
        n = int(journey.max()) + 1
        lengths = np.bincount(journey, minlength=n)
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        names = t[channel_col].astype(str).str.strip()
        if t[channel_col].isna().any() or (names == "").any():
            raise DataValidationError(f"{self.name}: column {channel_col!r} has an empty channel name")
        codes, channels = pd.factorize(names, sort=True)
        converted = np.zeros(n)
        conv_row = pd.to_numeric(t[converted_col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        if not np.isin(conv_row, (0.0, 1.0)).all():
            raise DataValidationError(f"{self.name}: column {converted_col!r} must be 0/1 or boolean")
        np.maximum.at(converted, journey, conv_row)
        if converted.sum() <= 0:
            raise DataValidationError(f"{self.name}: no journey converted; there is nothing to credit")
        if value_col is None:
            value = converted.copy()
        else:
            v = pd.to_numeric(t[value_col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            value = np.zeros(n)
            np.maximum.at(value, journey, np.where(np.isfinite(v), v, 0.0))
            value *= converted > 0

        # per touch: opportunity times
        opp = opportunities.drop_duplicates("opportunity_id").set_index("opportunity_id")
        opp_id = t[opportunity_col]
        on_conv = converted[journey] > 0
        known = opp_id.isin(opp.index).to_numpy()
        if (on_conv & ~known).any():
            row = int(np.flatnonzero(on_conv & ~known)[0])
            raise DataValidationError(
                f"{self.name}: touch row {row}: opportunity {opp_id.iloc[row]!r} of a converting journey "
                "is not in the opportunities table"
            )
        ns = t[time_col].to_numpy(dtype="datetime64[ns]").astype(np.int64)

        def opp_time(col: str) -> np.ndarray:
            s = pd.to_datetime(opp[col], utc=True).reindex(opp_id.where(known)).to_numpy(dtype="datetime64[ns]")
            out = s.astype(np.int64)
            out[np.isnat(s)] = np.iinfo(np.int64).min
            return out

        created = opp_time("created_at")
        position = np.arange(len(t)) - offsets[:-1][journey]
        big = np.iinfo(np.int64).max

        def first_where(mask):
            idx = np.full(n, big)
            np.minimum.at(idx, journey[mask], position[mask])
            return np.where(idx == big, -1, idx)

        def last_where(mask):
            idx = np.full(n, -1)
            np.maximum.at(idx, journey[mask], position[mask])
            return idx

        before_created = on_conv & (ns <= created)
        signal = t[signal_col].astype("string").fillna("").to_numpy(dtype=object)
        hand = np.isin(signal, list(self.lead_signals)) & t[contact_col].notna().to_numpy()
        found = {
            "first": np.where(converted > 0, 0, -1),
            "lead": first_where(before_created & hand),
            "opportunity": last_where(before_created),
        }
        if "won" in self.milestones:
            closed = opp_time("closed_at")
            won = opp["is_won"].reindex(opp_id.where(known)).fillna(False).to_numpy(dtype=bool)
            w_idx = last_where(on_conv & won & (closed != np.iinfo(np.int64).min) & (ns <= closed))
            found["won"] = np.where(w_idx > found["opportunity"], w_idx, -1)
        fraction = self._fractions(found, journey, position, offsets, converted > 0)
        self.milestone_coverage_ = {
            m: float((found[m][converted > 0] >= 0).mean()) for m in self.milestones
        }
        prep = TouchFractions(codes.astype(np.int64), lengths, fraction, None, len(channels))
        self._fit_prepared(prep, tuple(str(c) for c in channels), converted, 1.0 - converted, value)
        return self

    def _fractions(self, found, journey, position, offsets, converting) -> np.ndarray:
        """(n_touches,) share of each touch in its journey (module docstring)."""
        n = len(offsets) - 1
        w = self._weights()
        rest = max(0.0, 1.0 - sum(w.values()))
        weight_present = np.zeros(n)
        is_milestone = np.zeros(len(position), dtype=bool)
        for m in self.milestones:
            has = found[m] >= 0
            weight_present += w[m] * has
            is_milestone[offsets[:-1][has] + found[m][has]] = True
        n_other = np.bincount(journey, weights=~is_milestone, minlength=n)
        scale = np.where(n_other > 0, (1.0 - rest), 1.0) / np.where(weight_present > 0, weight_present, 1.0)
        fraction = np.where(is_milestone, 0.0, np.divide(rest, n_other[journey], out=np.zeros(len(position)),
                                                          where=n_other[journey] > 0))
        for m in self.milestones:
            has = (found[m] >= 0) & converting
            at = offsets[:-1][has] + found[m][has]
            np.add.at(fraction, at, w[m] * scale[has])
        fraction[~converting[journey]] = 0.0
        return fraction


class WShaped(MilestoneModel):
    """W-shaped: 30 % each to first touch, lead creation and opportunity creation.

    The other touches share the remaining 10 %. Definitions of the
    milestones, missing and coinciding milestones: module docstring.

    Parameters
    ----------
    first, lead, opportunity : float, default 0.3 each
    lead_signals : sequence of str, default :data:`LEAD_SIGNALS`
        Hand-raiser signals that make an identified contact's touch the lead
        creation.
    ci, n_boot, random_state
        Bootstrap settings, see :class:`attribution.AttributionModel`.
    """

    name = "w_shaped"
    milestones = ("first", "lead", "opportunity")

    def __init__(
        self,
        *,
        first: float = 0.3,
        lead: float = 0.3,
        opportunity: float = 0.3,
        lead_signals: tuple[str, ...] = LEAD_SIGNALS,
        ci: float | None = None,
        n_boot: int = 200,
        random_state=None,
    ):
        self.first = first
        self.lead = lead
        self.opportunity = opportunity
        self.lead_signals = lead_signals
        self.ci = ci
        self.n_boot = n_boot
        self.random_state = random_state


class FullPath(MilestoneModel):
    """Full path: 22.5 % each to first touch, lead, opportunity creation and closed-won.

    The other touches share the remaining 10 %. Meant for
    ``conversion="closed_won"`` journeys (elsewhere the closed-won milestone
    is missing and its weight goes to the others). Module docstring for the
    definitions.

    Parameters
    ----------
    first, lead, opportunity, won : float, default 0.225 each
    lead_signals : sequence of str, default :data:`LEAD_SIGNALS`
    ci, n_boot, random_state
        Bootstrap settings, see :class:`attribution.AttributionModel`.
    """

    name = "full_path"
    milestones = ("first", "lead", "opportunity", "won")

    def __init__(
        self,
        *,
        first: float = 0.225,
        lead: float = 0.225,
        opportunity: float = 0.225,
        won: float = 0.225,
        lead_signals: tuple[str, ...] = LEAD_SIGNALS,
        ci: float | None = None,
        n_boot: int = 200,
        random_state=None,
    ):
        self.first = first
        self.lead = lead
        self.opportunity = opportunity
        self.won = won
        self.lead_signals = lead_signals
        self.ci = ci
        self.n_boot = n_boot
        self.random_state = random_state
