"""The opportunity pipeline: a weekly discrete-time hazard with common random numbers.

Exposure (recency-decayed, role-weighted)
    .. math::

        E_{is}(t) = \\delta E_{is}(t-1) + X_{is}(t), \\qquad
        \\delta = 2^{-7 / h}

    with ``h`` the decay half-life in days and ``X_is(t)`` the week's touches
    of signal ``s`` each weighted by the contact's role x seniority multiplier.
    When an opportunity closes, ``E_i <- rho E_i`` (engagement resets partly).

Creation hazard (accounts not in an open cycle)
    .. math::

        \\operatorname{logit} h_{it} = b_0 + b_{size} size_i + b_{fit} fit_i
            + a^{create}_{tier(i)} + \\sum_s w_s \\log(1 + E_{is}(t-1))

    An opportunity is created in week ``t`` when ``U_it < h_it`` and the
    account is at risk; it is then in a cycle until the opportunity closes.

Win and cycle (drawn at creation)
    ``logit p_win = c_0 + c_eng S + c_cov coverage + c_fit fit + c_size size
    + a^{win}_{tier}`` with ``S = sum_s w_s log(1 + E_s)`` and ``coverage`` the
    share of the 7 known buying roles whose decayed touch count (half-life
    60 days) exceeds 0.5. The full cycle is
    ``70 exp(0.25 size) m^{cycle}_{tier} exp(0.35 z)`` days; a lost deal
    drops out at stage ``k`` (P(k) = 0.30, 0.25, 0.20, 0.15, 0.10) after
    ``(k + v) / 5`` of it.

Counterfactuals
    All uniforms ``U``, ``z``, ``v`` are drawn once per (week, account), so a
    re-run with channel ``c`` removed (its signals' ``w_s`` set to 0 and its
    touches removed from coverage) or with ABM switched off (tier effects 0,
    the thinned touch stream) uses common random numbers. Each run reports the
    expected conversions ``sum_{i,t} h_it 1[at risk]`` and wins
    ``sum h_it p_win,it 1[at risk]`` along its own path, and the realised counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _params as P
from ._touches import DAY, WEEK, Calendar

__all__ = ["PipelineInputs", "PipelineRun", "Draws", "draw_uniforms", "run_pipeline"]


@dataclass(frozen=True)
class Draws:
    """Common random numbers, one per (week, account)."""

    create: np.ndarray
    win: np.ndarray
    lost_stage: np.ndarray
    lost_fraction: np.ndarray
    cycle_z: np.ndarray
    offset: np.ndarray  # where in the week the opportunity is created


def draw_uniforms(n_weeks: int, n: int, rng: np.random.Generator) -> Draws:
    shape = (n_weeks, n)
    return Draws(
        create=rng.random(shape),
        win=rng.random(shape),
        lost_stage=rng.random(shape),
        lost_fraction=rng.random(shape),
        cycle_z=rng.standard_normal(shape),
        offset=rng.random(shape),
    )


@dataclass(frozen=True)
class PipelineInputs:
    """Per-account linear predictors and the exposure statistics of one scenario."""

    create_base: np.ndarray  # (N,) b0 + b_size size + b_fit fit + abm creation
    win_base: np.ndarray  # (N,) c0 + c_fit fit + c_size size + abm win
    cycle_days: np.ndarray  # (N,) median full cycle in days (size and ABM)
    x: np.ndarray  # (W, N, S) weighted touch counts
    y_total: np.ndarray  # (W, N, R) known-role touch counts, all channels
    signal_weights: np.ndarray  # (S,)
    y_by_channel: np.ndarray | None = None  # (C, W, N, R), for channel removal


@dataclass
class PipelineRun:
    expected_conversions: float
    expected_wins: float
    expected_by_account: np.ndarray
    realised_conversions: int
    realised_wins: int
    events: dict[str, np.ndarray] | None = None
    fixed_path_conversions_lost: np.ndarray | None = None  # (C,)
    fixed_path_wins_lost: np.ndarray | None = None  # (C,)


def _role_counts(inputs: PipelineInputs, t: int, drop_channel: int | None) -> np.ndarray:
    if drop_channel is None:
        return inputs.y_total[t]
    assert inputs.y_by_channel is not None
    return inputs.y_total[t] - inputs.y_by_channel[drop_channel, t]


def run_pipeline(
    inputs: PipelineInputs,
    draws: Draws,
    cal: Calendar,
    *,
    drop_channel: int | None = None,
    record: bool = False,
    channel_signals: np.ndarray | None = None,
) -> PipelineRun:
    """Simulate the weekly hazard for every account (vectorised over accounts).

    With ``record`` the created opportunities are returned as ``events``. With
    ``channel_signals`` (an (S, C) 0/1 matrix; needs ``inputs.y_by_channel``)
    the run also accumulates, for every channel at once, the fixed-path
    contrast ``sum_{i,t} 1[at risk] (h_it - h^{-c}_it)`` (and the same for
    expected wins): the probability lost on the factual path when the
    channel's touches are removed from the exposure and from the coverage.
    """
    n_weeks, n, n_sig = inputs.x.shape
    delta = 0.5 ** (7.0 / P.DECAY_HALF_LIFE_DAYS)
    delta_cov = 0.5 ** (7.0 / P.COVERAGE_HALF_LIFE_DAYS)
    w = inputs.signal_weights.astype(np.float64)
    lost_cum = np.cumsum(P.LOST_STAGE_PROBS) / np.sum(P.LOST_STAGE_PROBS)
    week_start = cal.week_start

    exposure = np.zeros((n, n_sig), dtype=np.float64)
    roles = np.zeros((n, len(P.COVERAGE_ROLES)), dtype=np.float64)
    busy_until = np.zeros(n, dtype=np.int64)  # first week at risk again
    reset_week = np.full(n, -1, dtype=np.int64)
    expected_by_account = np.zeros(n)
    expected_wins = 0.0
    n_conv = n_won = 0
    contrasts = channel_signals is not None
    if contrasts:
        assert inputs.y_by_channel is not None and channel_signals is not None
        n_chan = channel_signals.shape[1]
        w_by_channel = w[:, None] * channel_signals  # (S, C)
        roles_by_channel = np.zeros((n, n_chan, len(P.COVERAGE_ROLES)))
        lost_conv = np.zeros(n_chan)
        lost_wins = np.zeros(n_chan)
    ev: dict[str, list[np.ndarray]] = {
        k: [] for k in ("account", "created", "closed", "won", "lost_stage", "p_win", "week")
    }

    for t in range(n_weeks):
        resets = reset_week == t
        if resets.any():
            exposure[resets] *= P.RESET_ON_CLOSE
        at_risk = busy_until <= t
        log_exposure = np.log1p(exposure)
        engagement = log_exposure @ w
        h = 1.0 / (1.0 + np.exp(-(inputs.create_base + engagement)))
        coverage = (roles > P.COVERAGE_THRESHOLD).mean(axis=1)
        p_win = 1.0 / (
            1.0
            + np.exp(
                -(inputs.win_base + P.WIN["engagement"] * engagement + P.WIN["coverage"] * coverage)
            )
        )
        h_risk = np.where(at_risk, h, 0.0) * cal.week_fraction[t]
        expected_by_account += h_risk
        expected_wins += float(h_risk @ p_win)
        if contrasts:
            weight = np.where(at_risk, cal.week_fraction[t], 0.0)
            eng_c = engagement[:, None] - log_exposure @ w_by_channel  # (N, C)
            h_c = 1.0 / (1.0 + np.exp(-(inputs.create_base[:, None] + eng_c)))
            cov_c = ((roles[:, None, :] - roles_by_channel) > P.COVERAGE_THRESHOLD).mean(axis=2)
            p_c = 1.0 / (
                1.0
                + np.exp(
                    -(inputs.win_base[:, None] + P.WIN["engagement"] * eng_c
                      + P.WIN["coverage"] * cov_c)
                )
            )
            lost_conv += weight @ (h[:, None] - h_c)
            lost_wins += weight @ ((h * p_win)[:, None] - h_c * p_c)

        created = np.flatnonzero(draws.create[t] < h_risk)
        if created.size:
            won = draws.win[t, created] < p_win[created]
            stage = np.searchsorted(lost_cum, draws.lost_stage[t, created], side="right")
            stage = np.minimum(stage, len(lost_cum) - 1)
            full = inputs.cycle_days[created] * np.exp(P.CYCLE_SD * draws.cycle_z[t, created])
            frac = np.where(won, 1.0, (stage + draws.lost_fraction[t, created]) / 5.0)
            span = np.minimum(WEEK, cal.end - week_start[t])
            opened = week_start[t] + (draws.offset[t, created] * span).astype(np.int64)
            closed = opened + np.maximum((full * frac * DAY).astype(np.int64), 3600)
            nxt = (closed - cal.start) // WEEK + 1
            busy_until[created] = nxt
            reset_week[created] = nxt
            n_conv += created.size
            n_won += int(won.sum())
            if record:
                ev["account"].append(created)
                ev["created"].append(opened)
                ev["closed"].append(closed)
                ev["won"].append(won)
                ev["lost_stage"].append(np.where(won, -1, stage))
                ev["p_win"].append(p_win[created])
                ev["week"].append(np.full(created.size, t))

        exposure *= delta
        exposure += inputs.x[t]
        roles *= delta_cov
        roles += _role_counts(inputs, t, drop_channel)
        if contrasts:
            roles_by_channel *= delta_cov
            roles_by_channel += inputs.y_by_channel[:, t].transpose(1, 0, 2)

    events = None
    if record:
        events = {
            k: (np.concatenate(v) if v else np.zeros(0, dtype=np.int64)) for k, v in ev.items()
        }
    return PipelineRun(
        expected_conversions=float(expected_by_account.sum()),
        expected_wins=expected_wins,
        expected_by_account=expected_by_account,
        realised_conversions=n_conv,
        realised_wins=n_won,
        events=events,
        fixed_path_conversions_lost=lost_conv if contrasts else None,
        fixed_path_wins_lost=lost_wins if contrasts else None,
    )
