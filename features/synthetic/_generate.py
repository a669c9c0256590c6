"""Generate a synthetic ABM world with planted ground truth (the orchestrator).

The generative model, top to bottom (details in each private module):

1. **Accounts** (``_world``): segment, standardised log revenue ``size``,
   industry, region, business unit, ICP ``fit`` (a function of the observed
   industry, region and business unit); ABM tier by an ordered logit on size
   and fit (selection on observables).
2. **Buying committees** (``_world``): 3..40 contacts, more for bigger
   accounts, with buying role, seniority and department.
3. **Touch streams** (``_touches``): weekly Poisson counts per account and
   signal (18 signals over 14 channels) driven by size, fit, committee size,
   an account random effect, in-market bursts, seasonality and the tier's
   touch-rate multiplier; contacts, campaigns, assets and costs per touch.
   Opt-in worlds (``world=``) change the burst response per signal, add
   noise touches unrelated to buying state, or plant other signal weights
   (``_params.WORLDS``); the default world is unchanged.
4. **Opportunities** (``_pipeline``): discrete-time weekly hazard

   .. math::

       \\operatorname{logit} h_{it} = b_0 + b_{size} size_i + b_{fit} fit_i
           + a^{create}_{tier(i)} + \\sum_s w_s \\log(1 + E_{is}(t-1)),

   ``E`` the role x seniority weighted, recency-decayed (half-life 30 days)
   touch count per signal; one open opportunity per account at a time; win
   probability from engagement, committee coverage, fit, size and tier; cycle
   length from size and tier; lost deals drop out at an intermediate stage.
5. **Deals** (here): amount ``35000 exp(0.75 size) m^{deal}_{tier}
   exp(0.45 z)`` rounded to 100; stage history with Dirichlet stage
   durations; opportunities still open at ``end`` have no ``closed_at``.
6. **Contracts** (here): each won deal starts an annual contract worth its
   amount; the account's churn probability is ``theta ~ Beta(alpha_g,
   beta_g) x m^{churn}_{tier}`` (shifted-beta-geometric), drawn once per
   account; each anniversary it churns with probability ``theta``.
7. **Spend** (here): monthly, per programme (business unit), tier, channel and
   cost type: ``programs`` = the touch costs, ``personnel`` / ``content`` /
   ``technology`` = per-account costs of the tier (one_to_one costs most).

Ground truth
    Every planted parameter, plus ``channel_effects``: for each channel the
    expected opportunity creations lost when its touches are removed,
    re-running the hazard with common random numbers,
    ``Delta_c = sum_{i,t} (h_it 1[at risk]) - sum_{i,t} (h^{-c}_it 1[at risk]^{-c})``,
    and the shares ``max(Delta_c, 0) / sum_c max(Delta_c, 0)``; and the naive
    ABM lift next to the true (counterfactual, same random numbers, thinned
    touch stream) effect on the ABM accounts.

References
----------
Fader, P. S. and Hardie, B. G. S. (2007). How to project customer retention.
Journal of Interactive Marketing 21(1), 76-90 (the shifted-beta-geometric model).
Singer, J. D. and Willett, J. B. (1993). It's about time: using discrete-time
survival analysis to study duration and the timing of events. Journal of
Educational Statistics 18(2), 155-195.
"""

from __future__ import annotations

import logging
import time as _time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from features.contracts import ABM_TIERS, BUYING_ROLES, COST_TYPES, OPPORTUNITY_STAGES, SENIORITIES
from features.errors import ConfigError

from . import _params as P
from ._frames import coded_ids, frame, ids, labels, timestamps
from ._pipeline import PipelineInputs, draw_uniforms, run_pipeline
from ._touches import (
    DAY,
    DEAL_PHASE_RATE,
    DEAL_PHASE_SIGNALS,
    Calendar,
    TouchStream,
    World,
    abm_touch_multipliers,
    campaign_channels,
    deal_phase_touches,
    simulate_touches,
)
from ._world import TIER_NONE, Accounts, simulate_accounts, simulate_contacts

__all__ = ["SyntheticDataset", "generate_dataset"]

logger = logging.getLogger(__name__)

YEAR = 365 * DAY
ID_WIDTH = {"A": 6, "C": 7, "T": 8, "O": 6, "K": 6, "CMP": 5, "AS": 6, "PRG": 2}


@dataclass(frozen=True)
class SyntheticDataset:
    """A synthetic ABM data set and the truth it was generated from.

    Attributes
    ----------
    tables : dict of str to DataFrame
        ``accounts``, ``contacts``, ``touchpoints``, ``opportunities``,
        ``opportunity_stages``, ``contracts``, ``spend``; each with exactly the
        columns of its contract (``features.contracts``) in contract order and
        the dtypes the loader produces.
    ground_truth : dict
        JSON-serialisable planted parameters and derived true effects.
    """

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    ground_truth: dict = field(default_factory=dict)


def _tier_param(name: str) -> np.ndarray:
    return np.array([P.ABM_EFFECTS[t][name] for t in ABM_TIERS])


def _calendar(start: str, end: str) -> Calendar:
    try:
        s = pd.Timestamp(start)
        e = pd.Timestamp(end)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"start/end must be ISO 8601 dates (e.g. 2024-01-01), got {start!r}, {end!r}"
        ) from exc
    s = s.tz_localize("UTC") if s.tzinfo is None else s.tz_convert("UTC")
    e = e.tz_localize("UTC") if e.tzinfo is None else e.tz_convert("UTC")
    if e - s < pd.Timedelta(days=28):
        raise ConfigError(
            f"the window {start} .. {end} is shorter than 28 days; "
            "pass an end at least four weeks after start"
        )
    return Calendar(start=int(s.value // 10**9), end=int(e.value // 10**9))


def _iso(sec: int) -> str:
    return pd.Timestamp(sec, unit="s", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def _pipeline_inputs(
    acc: Accounts, tier: np.ndarray, touches: TouchStream, abm: bool,
    signal_weights: dict[str, float] | None = None,
    intercept: float = P.HAZARD["intercept"],
) -> PipelineInputs:
    create = (
        intercept + P.HAZARD["size"] * acc.size + P.HAZARD["fit"] * acc.fit
        + _tier_param("creation_log_odds")[tier]
    )
    win = (
        P.WIN["intercept"] + P.WIN["fit"] * acc.fit + P.WIN["size"] * acc.size
        + _tier_param("win_log_odds")[tier]
    )
    cycle = P.CYCLE_MEDIAN_DAYS * np.exp(P.CYCLE_SIZE * acc.size) * _tier_param(
        "cycle_length_multiplier"
    )[tier]
    weights = P.SIGNAL_WEIGHTS if signal_weights is None else signal_weights
    w = np.array([weights[s] for s in P.SIGNAL_NAMES])
    if abm:
        assert touches.x is not None and touches.y is not None
        y_total = touches.y.sum(axis=0, dtype=np.float32)
        return PipelineInputs(create, win, cycle, touches.x, y_total, w, touches.y)
    assert touches.x_no_abm is not None and touches.y_no_abm is not None
    return PipelineInputs(
        create, win, cycle, touches.x_no_abm, touches.y_no_abm.astype(np.float32), w
    )


def _stage_history(
    rng: np.random.Generator,
    created: np.ndarray,
    closed: np.ndarray,
    won: np.ndarray,
    lost_stage: np.ndarray,
    end: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stage rows (opportunity index, stage code, entered_at) and each opp's current stage."""
    n = len(created)
    d = rng.gamma(np.asarray(P.STAGE_DURATION_ALPHA), size=(n, 5))
    last = np.where(won, 4, lost_stage)  # last open stage reached
    j = np.arange(5)
    reached = j[None, :] <= last[:, None]
    d = np.where(reached, d, 0.0)
    before = np.cumsum(d, axis=1) - d  # durations of the stages before j
    frac = before / d.sum(axis=1, keepdims=True)
    span = (closed - created).astype(np.float64)
    entry = created[:, None] + (frac * span[:, None]).astype(np.int64)
    entry = np.concatenate([entry, closed[:, None]], axis=1)
    code = np.broadcast_to(np.arange(6), (n, 6)).copy()
    won_code, lost_code = (OPPORTUNITY_STAGES.index(s) for s in ("closed_won", "closed_lost"))
    code[:, 5] = np.where(won, won_code, lost_code)
    valid = np.concatenate([reached, np.ones((n, 1), bool)], axis=1) & (entry <= end)
    current = code[np.arange(n), valid.shape[1] - 1 - np.argmax(valid[:, ::-1], axis=1)]
    rows, cols = np.nonzero(valid)
    return rows, code[rows, cols], entry[rows, cols], current


def _spend(
    acc: Accounts, touches: TouchStream, cal: Calendar
) -> dict[str, pd.Series | np.ndarray]:
    """Monthly spend per programme (business unit), tier, channel and cost type."""
    first = pd.Timestamp(cal.start, unit="s").normalize().replace(day=1)
    months = pd.date_range(first, pd.Timestamp(cal.end, unit="s"), freq="MS").tz_localize("UTC")
    m_start = (months.as_unit("s").asi8).astype(np.int64)
    m_next = (months + pd.offsets.MonthBegin(1)).as_unit("s").asi8.astype(np.int64)
    p_start = np.maximum(m_start, cal.start)
    p_end = np.minimum(m_next - DAY, cal.end)
    keep = p_end >= p_start
    m_start, m_next, p_start, p_end = m_start[keep], m_next[keep], p_start[keep], p_end[keep]
    covered = np.minimum(m_next, cal.end) - p_start
    month_frac = covered / (m_next - m_start)

    n_bu, n_tier, n_ch, n_ct, n_m = (
        len(P.BUSINESS_UNITS), len(ABM_TIERS), len(P.CHANNEL_NAMES), len(COST_TYPES), len(m_start),
    )
    amount = np.zeros((n_bu, n_tier, n_ch, n_ct, n_m))
    # programs: the touch costs
    chan_of_signal = np.array([P.CHANNEL_NAMES.index(P.SIGNALS[s][0]) for s in P.SIGNAL_NAMES])
    month = np.clip(np.searchsorted(m_start, touches.time, side="right") - 1, 0, n_m - 1)
    a = touches.account
    key = (
        ((acc.business_unit[a].astype(np.int64) * n_tier + acc.tier[a]) * n_ch
         + chan_of_signal[touches.signal]) * n_m + month
    )
    prog = np.bincount(key, weights=touches.cost, minlength=n_bu * n_tier * n_ch * n_m)
    amount[:, :, :, COST_TYPES.index("programs"), :] = prog.reshape(n_bu, n_tier, n_ch, n_m)
    # fixed per-account costs of each tier
    n_acc = np.zeros((n_bu, n_tier))
    np.add.at(n_acc, (acc.business_unit, acc.tier), 1.0)
    for k, tier in enumerate(ABM_TIERS):
        personnel, content = P.TIER_ACCOUNT_COSTS[tier]
        for ch, share in P.PERSONNEL_CHANNELS.items():
            c = P.CHANNEL_NAMES.index(ch)
            amount[:, k, c, COST_TYPES.index("personnel"), :] += (
                n_acc[:, k, None] * personnel * share * month_frac[None, :]
            )
        for ch, share in P.CONTENT_CHANNELS.items():
            c = P.CHANNEL_NAMES.index(ch)
            amount[:, k, c, COST_TYPES.index("content"), :] += (
                n_acc[:, k, None] * content * share * month_frac[None, :]
            )
        for ch, per_tier in P.TECHNOLOGY_PER_ACCOUNT.items():
            c = P.CHANNEL_NAMES.index(ch)
            amount[:, k, c, COST_TYPES.index("technology"), :] += (
                n_acc[:, k, None] * per_tier[tier] * month_frac[None, :]
            )
    amount = np.round(amount, 2)
    bu, tier, ch, ct, m = np.nonzero(amount > 0)  # C order = primary-key order below
    # sort by the primary key's string order (program, tier, channel, cost type, period)
    tier_rank = np.argsort(np.argsort(np.array(ABM_TIERS)))
    ch_rank = np.argsort(np.argsort(np.array(P.CHANNEL_NAMES)))
    ct_rank = np.argsort(np.argsort(np.array(COST_TYPES)))
    order = np.lexsort((m, ct_rank[ct], ch_rank[ch], tier_rank[tier], bu))
    bu, tier, ch, ct, m = bu[order], tier[order], ch[order], ct[order], m[order]
    return {
        "program_id": coded_ids("PRG", bu, ID_WIDTH["PRG"]),
        "abm_tier": labels(ABM_TIERS, tier),
        "channel": labels(P.CHANNEL_NAMES, ch),
        "cost_type": labels(COST_TYPES, ct),
        "period_start": timestamps(p_start[m]),
        "period_end": timestamps(p_end[m]),
        "amount": amount[bu, tier, ch, ct, m],
    }


def _abm_comparison(
    acc: Accounts,
    opp_account: np.ndarray,
    opp_won: np.ndarray,
    opp_closed_ok: np.ndarray,
    opp_amount: np.ndarray,
    exp_actual: np.ndarray,
    exp_no_abm: np.ndarray,
) -> tuple[dict, dict]:
    """Naive tier comparison (what a dashboard shows) vs the counterfactual truth."""
    n_opp = np.bincount(opp_account, minlength=acc.n).astype(float)
    none = acc.tier == TIER_NONE

    def rates(mask_acc: np.ndarray) -> dict:
        sel = mask_acc[opp_account]
        closed = sel & opp_closed_ok
        return {
            "accounts": int(mask_acc.sum()),
            "opportunities_per_account": float(n_opp[mask_acc].mean()) if mask_acc.any() else None,
            "win_rate": float(opp_won[closed].mean()) if closed.any() else None,
            "mean_amount": float(opp_amount[sel].mean()) if sel.any() else None,
            "mean_size": float(acc.size[mask_acc].mean()) if mask_acc.any() else None,
            "mean_fit": float(acc.fit[mask_acc].mean()) if mask_acc.any() else None,
        }

    def ratio(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None or b == 0 else float(a / b)

    base = rates(none)
    naive: dict = {
        "definition": "observed mean of ABM accounts / mean of non-ABM (tier none) accounts",
        "non_abm": base,
        "abm": rates(~none),
        "by_tier": {},
    }
    naive["opportunities_per_account_ratio"] = ratio(
        naive["abm"]["opportunities_per_account"], base["opportunities_per_account"]
    )
    naive["win_rate_ratio"] = ratio(naive["abm"]["win_rate"], base["win_rate"])
    naive["deal_size_ratio"] = ratio(naive["abm"]["mean_amount"], base["mean_amount"])

    def att(mask_acc: np.ndarray) -> dict:
        a, c = float(exp_actual[mask_acc].sum()), float(exp_no_abm[mask_acc].sum())
        k = max(int(mask_acc.sum()), 1)
        return {
            "accounts": int(mask_acc.sum()),
            "expected_opportunities_per_account": a / k,
            "expected_opportunities_per_account_without_abm": c / k,
            "opportunities_per_account_ratio": ratio(a, c),
        }

    true: dict = {
        "definition": (
            "effect on the treated: expected opportunity creations of ABM accounts with "
            "their tier vs the same accounts, same random numbers, with tier none "
            "(no tier effects, thinned touch stream)"
        ),
        "planted": {t: dict(P.ABM_EFFECTS[t]) for t in ABM_TIERS},
        "by_tier": {},
        **att(~none),
    }
    for k, tier in enumerate(ABM_TIERS[:-1]):
        m = acc.tier == k
        r = rates(m)
        r["opportunities_per_account_ratio"] = ratio(
            r["opportunities_per_account"], base["opportunities_per_account"]
        )
        r["win_rate_ratio"] = ratio(r["win_rate"], base["win_rate"])
        r["deal_size_ratio"] = ratio(r["mean_amount"], base["mean_amount"])
        naive["by_tier"][tier] = r
        true["by_tier"][tier] = att(m)
    return naive, true


def _resolve_world(world: Any) -> World | None:
    """``None`` for the default world, else the resolved :class:`World`.

    ``world`` is a name of ``_params.WORLDS`` or a mapping of overrides with
    keys among ``signal_weights``, ``burst_gains`` (each a partial
    signal -> value mapping), ``noise_touches`` (signal -> (base rate,
    committee exponent, sd of the log level, anonymous share)), ``bursts``
    ((start probability, decay, jump) of the in-market process) and
    ``hazard_intercept``.
    """
    if isinstance(world, str):
        if world not in P.WORLDS:
            raise ConfigError(
                f"unknown world {world!r}; use one of {', '.join(P.WORLDS)} "
                f"or a mapping of overrides ({', '.join(P.WORLD_KEYS)})"
            )
        if world == "default":
            return None
        name, over = world, P.WORLDS[world]
    elif isinstance(world, Mapping):
        name, over = "custom", world
    else:
        raise ConfigError(
            f"world must be a name ({', '.join(P.WORLDS)}) or a mapping of overrides, "
            f"got {type(world).__name__}"
        )
    extra = sorted(set(over) - set(P.WORLD_KEYS))
    if extra:
        raise ConfigError(f"world overrides {extra} are unknown; expected {list(P.WORLD_KEYS)}")
    weights = {**P.SIGNAL_WEIGHTS, **dict(over.get("signal_weights", {}))}
    gains = {**P.BURST_GAINS, **dict(over.get("burst_gains", {}))}
    noise = {k: tuple(float(x) for x in v) for k, v in dict(over.get("noise_touches", {})).items()}
    for what, table in (("signal_weights", weights), ("burst_gains", gains), ("noise_touches", noise)):
        unknown = sorted(set(table) - set(P.SIGNALS))
        if unknown:
            raise ConfigError(f"world {what} names unknown signals {unknown}")
    bad = [k for k, v in noise.items() if len(v) != 4 or v[0] <= 0 or v[2] < 0 or not 0 <= v[3] <= 1]
    if bad:
        raise ConfigError(
            f"world noise_touches for {bad} must be (base rate > 0, committee exponent, "
            f"sd >= 0, anonymous share in [0, 1])"
        )
    bursts = tuple(float(x) for x in over.get(
        "bursts", (P.BURST_START, P.BURST_DECAY, P.BURST_JUMP)))
    if len(bursts) != 3 or not (0 <= bursts[0] <= 1 and 0 <= bursts[1] < 1):
        raise ConfigError(
            f"world bursts must be (start probability in [0, 1], decay in [0, 1), jump), "
            f"got {bursts}"
        )
    intercept = float(over.get("hazard_intercept", P.HAZARD["intercept"]))
    return World(name, weights, gains, noise, bursts, intercept)


def generate_dataset(
    n_accounts: int = 2000,
    *,
    seed: int = 0,
    start: str = "2024-01-01",
    end: str = "2025-12-31",
    world: str | Mapping[str, Any] = "default",
) -> SyntheticDataset:
    """Generate a realistic synthetic ABM data set with planted ground truth.

    Parameters
    ----------
    n_accounts : int, default 2000
        Number of accounts. About 500 touchpoints per account over two years
        (heavily skewed), so 20,000 accounts give about 10 million touchpoints.
    seed : int, default 0
        Seed of ``np.random.default_rng``; the same seed gives identical tables.
    start, end : str
        The window, ISO 8601 dates or timestamps (UTC). Every timestamp of every
        table lies in ``[start, end]``.
    world : str or mapping, default "default"
        ``"default"`` (the world documented above; identical output to
        generator versions without this option), ``"noisy_volume"``
        (non-human / list-driven email opens, web visits and display clicks,
        and in-market bursts that lift high-intent signals far more than
        low-intent ones), ``"research_weights"`` (planted weights that depart
        from points-table folklore) or ``"noisy_research"`` (both); or a
        mapping of overrides (see ``_params.WORLDS``). A non-default world is
        recorded in ``ground_truth["world"]``.

    Returns
    -------
    SyntheticDataset
        ``tables`` keyed by contract name and the JSON-serialisable ``ground_truth``.

    Raises
    ------
    ConfigError
        If ``n_accounts`` is not a positive integer or the window is shorter than
        four weeks or not a date.
    """
    valid_n = isinstance(n_accounts, (int, np.integer)) and not isinstance(n_accounts, bool)
    if not valid_n or n_accounts < 1:
        raise ConfigError(
            f"n_accounts must be a positive integer, got {n_accounts!r}; e.g. n_accounts=2000"
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    n_accounts = int(n_accounts)
    cal = _calendar(start, end)
    t0 = _time.perf_counter()
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(8)]
    rng_acc, rng_con, rng_touch, rng_draw, rng_deal, rng_phase, rng_contract, rng_world = streams
    wld = _resolve_world(world)
    weights = P.SIGNAL_WEIGHTS if wld is None else wld.signal_weights
    intercept = P.HAZARD["intercept"] if wld is None else wld.hazard_intercept

    acc = simulate_accounts(n_accounts, rng_acc)
    con = simulate_contacts(acc, rng_con)
    touches = simulate_touches(acc, con, cal, rng_touch, world=wld, world_rng=rng_world)
    logger.info("simulated %d marketing touches in %.1fs", len(touches), _time.perf_counter() - t0)

    # --- pipeline: factual run, channel removals, ABM off (common random numbers)
    draws = draw_uniforms(cal.n_weeks, acc.n, rng_draw)
    inputs = _pipeline_inputs(acc, acc.tier, touches, abm=True, signal_weights=weights,
                              intercept=intercept)
    channel_signals = np.zeros((len(P.SIGNAL_NAMES), len(P.CHANNEL_NAMES)))
    for s, name in enumerate(P.SIGNAL_NAMES):
        channel_signals[s, P.CHANNEL_NAMES.index(P.SIGNALS[name][0])] = 1.0
    base = run_pipeline(inputs, draws, cal, record=True, channel_signals=channel_signals)
    assert base.fixed_path_conversions_lost is not None
    assert base.fixed_path_wins_lost is not None
    removal: dict[str, dict[str, float]] = {}
    for c, channel in enumerate(P.CHANNEL_NAMES):
        w = inputs.signal_weights.copy()
        for s, name in enumerate(P.SIGNAL_NAMES):
            if P.SIGNALS[name][0] == channel:
                w[s] = 0.0
        run = run_pipeline(
            PipelineInputs(inputs.create_base, inputs.win_base, inputs.cycle_days, inputs.x,
                           inputs.y_total, w, inputs.y_by_channel),
            draws, cal, drop_channel=c,
        )
        removal[channel] = {
            "expected_conversions_lost": base.expected_conversions - run.expected_conversions,
            "realised_conversions_lost": float(base.realised_conversions - run.realised_conversions),
            "expected_wins_lost": base.expected_wins - run.expected_wins,
            "fixed_path_conversions_lost": float(base.fixed_path_conversions_lost[c]),
            "fixed_path_wins_lost": float(base.fixed_path_wins_lost[c]),
        }
    del inputs
    no_abm_tier = np.full(acc.n, TIER_NONE, dtype=np.int16)
    no_abm = run_pipeline(
        _pipeline_inputs(acc, no_abm_tier, touches, abm=False, signal_weights=weights,
                         intercept=intercept),
        draws, cal,
    )
    touches.x = touches.x_no_abm = touches.y = touches.y_no_abm = None
    del draws
    logger.info(
        "pipeline and %d counterfactuals in %.1fs", len(removal) + 1, _time.perf_counter() - t0
    )

    # --- opportunities
    ev = base.events
    assert ev is not None
    order = np.lexsort((ev["account"], ev["created"]))
    o_acc = ev["account"][order].astype(np.int64)
    o_created = ev["created"][order]
    o_closed = ev["closed"][order]
    o_won = ev["won"][order]
    o_lost = ev["lost_stage"][order]
    n_opp = len(o_acc)
    deal_mult = _tier_param("deal_size_multiplier")[acc.tier[o_acc]]
    amount = P.DEAL_MEDIAN * np.exp(P.DEAL_SIZE * acc.size[o_acc]) * deal_mult * np.exp(
        P.DEAL_SD * rng_deal.standard_normal(n_opp)
    )
    amount = np.maximum(np.round(amount, -2), 500.0)
    s_rows, s_code, s_entered, current = _stage_history(
        rng_deal, o_created, o_closed, o_won, o_lost, cal.end
    )
    is_closed = o_closed <= cal.end
    is_won = o_won & is_closed

    # --- deal-phase touches, then all touches in time order
    phase = deal_phase_touches(o_acc, o_created, o_closed, con, cal, rng_phase)
    n_marketing = len(touches)
    cols = {
        k: np.concatenate([getattr(touches, k), getattr(phase, k)])
        for k in ("account", "contact", "time", "signal", "campaign", "asset", "cost")
    }
    del touches, phase
    t_order = np.argsort(cols["time"], kind="stable")
    cols = {k: v[t_order] for k, v in cols.items()}
    del t_order
    all_touches = TouchStream(**cols)

    # --- contracts (sBG renewals)
    seg_ab = np.array([[P.CHURN[g]["alpha"], P.CHURN[g]["beta"]] for g in P.SEGMENTS])
    theta = rng_contract.beta(seg_ab[acc.segment, 0], seg_ab[acc.segment, 1])
    theta = np.clip(theta * _tier_param("churn_multiplier")[acc.tier], 1e-6, 1.0)
    c_idx = np.flatnonzero(is_won)
    c_start = o_closed[c_idx]
    c_acc = o_acc[c_idx]
    periods = rng_contract.geometric(theta[c_acc]) if len(c_idx) else np.zeros(0, np.int64)
    c_end = c_start + periods.astype(np.int64) * YEAR
    c_open = c_end > cal.end
    k_order = np.lexsort((c_acc, c_start))

    # --- tables
    tables: dict[str, pd.DataFrame] = {}
    tables["accounts"] = frame("accounts", {
        "account_id": ids("A", np.arange(1, acc.n + 1), ID_WIDTH["A"]),
        "segment": labels(tuple(P.SEGMENTS), acc.segment),
        "industry": labels(tuple(P.INDUSTRIES), acc.industry),
        "region": labels(tuple(P.REGIONS), acc.region),
        "business_unit": labels(tuple(P.BUSINESS_UNITS), acc.business_unit),
        "abm_tier": labels(ABM_TIERS, acc.tier),
        "annual_revenue": acc.revenue.astype(np.float64),
    })
    tables["contacts"] = frame("contacts", {
        "contact_id": ids("C", np.arange(1, con.n + 1), ID_WIDTH["C"]),
        "account_id": coded_ids("A", con.account, ID_WIDTH["A"]),
        "buying_role": labels(BUYING_ROLES, con.role),
        "seniority": labels(SENIORITIES, con.seniority),
        "department": labels(P.DEPARTMENTS, con.department),
    })
    chan_of_signal = np.array([P.CHANNEL_NAMES.index(P.SIGNALS[s][0]) for s in P.SIGNAL_NAMES])
    tables["touchpoints"] = frame("touchpoints", {
        "touchpoint_id": ids("T", np.arange(1, len(all_touches) + 1), ID_WIDTH["T"]),
        "account_id": coded_ids("A", all_touches.account, ID_WIDTH["A"]),
        "contact_id": coded_ids("C", all_touches.contact, ID_WIDTH["C"]),
        "timestamp": timestamps(all_touches.time),
        "channel": labels(P.CHANNEL_NAMES, chan_of_signal[all_touches.signal]),
        "signal": labels(P.SIGNAL_NAMES, all_touches.signal),
        "campaign_id": coded_ids("CMP", all_touches.campaign, ID_WIDTH["CMP"]),
        "asset_id": coded_ids("AS", all_touches.asset, ID_WIDTH["AS"]),
        "cost": all_touches.cost.astype(np.float64),
    })
    opp_id_codes = np.arange(n_opp)
    tables["opportunities"] = frame("opportunities", {
        "opportunity_id": coded_ids("O", opp_id_codes, ID_WIDTH["O"]),
        "account_id": coded_ids("A", o_acc, ID_WIDTH["A"]),
        "created_at": timestamps(o_created),
        "closed_at": timestamps(o_closed, missing=~is_closed),
        "stage": labels(OPPORTUNITY_STAGES, current),
        "is_won": is_won.astype(bool),
        "amount": amount.astype(np.float64),
    })
    tables["opportunity_stages"] = frame("opportunity_stages", {
        "opportunity_id": coded_ids("O", s_rows, ID_WIDTH["O"]),
        "stage": labels(OPPORTUNITY_STAGES, s_code),
        "entered_at": timestamps(s_entered),
    })
    tables["contracts"] = frame("contracts", {
        "contract_id": coded_ids("K", np.arange(len(c_idx)), ID_WIDTH["K"]),
        "account_id": coded_ids("A", c_acc[k_order], ID_WIDTH["A"]),
        "start_date": timestamps(c_start[k_order]),
        "end_date": timestamps(c_end[k_order], missing=c_open[k_order]),
        "annual_value": amount[c_idx][k_order].astype(np.float64),
    })
    tables["spend"] = frame("spend", _spend(acc, all_touches, cal))
    tables["opportunities"]["is_won"] = tables["opportunities"]["is_won"].astype(bool)

    # --- ground truth
    naive, true = _abm_comparison(
        acc, o_acc, is_won, is_closed, amount, base.expected_by_account, no_abm.expected_by_account
    )
    lost = {c: max(v["expected_conversions_lost"], 0.0) for c, v in removal.items()}
    lost_w = {c: max(v["expected_wins_lost"], 0.0) for c, v in removal.items()}
    tot, tot_w = sum(lost.values()), sum(lost_w.values())
    ground_truth = _ground_truth(
        n_accounts, seed, cal, base, removal, lost, lost_w, tot, tot_w, naive, true,
        {k: int(len(v)) for k, v in tables.items()}, n_marketing,
    )
    if wld is not None:
        ground_truth["signal_weights"] = dict(wld.signal_weights)
        ground_truth["hazard"]["intercept"] = wld.hazard_intercept
        ground_truth["parameters"]["world"] = wld.name
        ground_truth["world"] = {
            "name": wld.name,
            "signal_weights": dict(wld.signal_weights),
            "burst_gains": dict(wld.burst_gains),
            "bursts": dict(zip(("start_probability", "decay", "jump"), wld.bursts)),
            "hazard_intercept": wld.hazard_intercept,
            "noise_touches": {
                k: dict(zip(("base_weekly_rate", "committee_exponent", "log_level_sd",
                             "anonymous_share"), v))
                for k, v in wld.noise_touches.items()
            },
            "note": "noise touches are recorded like any touch of their signal and enter "
                    "the exposure E with the signal's planted weight; their rate has no "
                    "size, fit, account-effect or burst term",
        }
    logger.info("generated %d accounts, %d touchpoints in %.1fs",
                acc.n, len(tables["touchpoints"]), _time.perf_counter() - t0)
    return SyntheticDataset(tables=tables, ground_truth=ground_truth)


def _shares(values: dict[str, float]) -> dict[str, float]:
    pos = {k: max(v, 0.0) for k, v in values.items()}
    tot = sum(pos.values())
    return {k: (v / tot if tot > 0 else 0.0) for k, v in pos.items()}


def _ground_truth(
    n_accounts: int, seed: int, cal: Calendar, base, removal: dict, lost: dict, lost_w: dict,
    tot: float, tot_w: float, naive: dict, true: dict, rows: dict, n_marketing: int,
) -> dict:
    roles = {r: P.ROLE_MULTIPLIERS[r] for r in BUYING_ROLES}
    tier_mult = abm_touch_multipliers()
    return {
        "generator": {"name": "features.synthetic", "version": P.GENERATOR_VERSION},
        "parameters": {
            "n_accounts": n_accounts, "seed": int(seed),
            "start": _iso(cal.start), "end": _iso(cal.end),
        },
        "window": {"start": _iso(cal.start), "end": _iso(cal.end), "n_weeks": cal.n_weeks},
        "firmographics": {
            "size_definition": "size = (log10(annual_revenue) - size_center) / size_scale",
            "size_center": P.SIZE_CENTER,
            "size_scale": P.SIZE_SCALE,
            "missing_annual_revenue_share": P.MISSING_REVENUE_SHARE,
            "segments": {
                g: {"share": v[0], "log10_revenue_mean": v[1], "log10_revenue_sd": v[2]}
                for g, v in P.SEGMENTS.items()
            },
            "fit_definition": "fit = industry_fit + region_fit + business_unit_fit",
            "industry_fit": {k: v[1] for k, v in P.INDUSTRIES.items()},
            "region_fit": {k: v[1] for k, v in P.REGIONS.items()},
            "business_unit_fit": {k: v[1] for k, v in P.BUSINESS_UNITS.items()},
            "program_business_unit": {
                f"PRG{k + 1:02d}": bu for k, bu in enumerate(P.BUSINESS_UNITS)
            },
        },
        "tier_propensity": {
            "model": "ordered_logit",
            "formula": "z = size_coef * size + fit_coef * fit + Logistic(0, 1); "
                       "tier = none | one_to_many | one_to_few | one_to_one cut at cutpoints",
            "coefficients": dict(P.TIER_PROPENSITY),
            "cutpoints": {
                "none|one_to_many": P.TIER_CUTPOINTS[0],
                "one_to_many|one_to_few": P.TIER_CUTPOINTS[1],
                "one_to_few|one_to_one": P.TIER_CUTPOINTS[2],
            },
            "selection_on_observables": True,
        },
        "committee": {
            "size_formula": "clip(3 + Poisson(exp(a + b * size)), 3, 40)",
            "a": P.COMMITTEE_LOG_MEAN[0], "b": P.COMMITTEE_LOG_MEAN[1],
            "role_shares": dict(P.ROLE_SHARES),
        },
        "signal_weights": dict(P.SIGNAL_WEIGHTS),
        "signal_channels": {s: P.SIGNALS[s][0] for s in P.SIGNAL_NAMES},
        "decay_half_life_days": P.DECAY_HALF_LIFE_DAYS,
        "role_multipliers": roles,
        "seniority_multipliers": dict(P.SENIORITY_MULTIPLIERS),
        "anonymous_multiplier": P.ANONYMOUS_MULTIPLIER,
        "hazard": {
            "formula": "logit h_it = intercept + size*size_i + fit*fit_i + creation_log_odds[tier_i] "
                       "+ sum_s signal_weights[s] * log(1 + E_is(t-1)); "
                       "E_is(t) = 2^(-7/half_life) E_is(t-1) + sum over week-t touches of "
                       "role_multiplier * seniority_multiplier (anonymous: anonymous_multiplier)",
            "time_step_days": 7,
            "intercept": P.HAZARD["intercept"], "size": P.HAZARD["size"], "fit": P.HAZARD["fit"],
            "exposure_transform": "log1p",
            "reset_on_close": P.RESET_ON_CLOSE,
            "one_open_opportunity_per_account": True,
            "initial_exposure": 0.0,
        },
        "abm_effects": {t: dict(P.ABM_EFFECTS[t]) for t in ABM_TIERS},
        "abm_touch_rate_multipliers": {
            t: {c: float(tier_mult[k, j]) for j, c in enumerate(P.CHANNEL_NAMES)}
            for k, t in enumerate(ABM_TIERS)
        },
        "win_model": {
            "formula": "logit p = intercept + engagement*S + coverage*cov + fit*fit + size*size "
                       "+ win_log_odds[tier]; S = sum_s w_s log(1 + E_s) at creation; cov = share "
                       "of the 7 known buying roles with decayed touch count > threshold",
            **P.WIN,
            "coverage_half_life_days": P.COVERAGE_HALF_LIFE_DAYS,
            "coverage_threshold": P.COVERAGE_THRESHOLD,
            "coverage_roles": list(P.COVERAGE_ROLES),
        },
        "cycle_model": {
            "formula": "days = median * exp(size_coef * size) * cycle_length_multiplier[tier] "
                       "* exp(sd * z); lost deals close after (k + U) / 5 of it, k the last stage",
            "median_days": P.CYCLE_MEDIAN_DAYS, "size_coef": P.CYCLE_SIZE, "sd": P.CYCLE_SD,
            "lost_stage_probabilities": dict(zip(OPPORTUNITY_STAGES[:5], P.LOST_STAGE_PROBS)),
        },
        "deal_size_model": {
            "formula": "amount = median * exp(size_coef * size) * deal_size_multiplier[tier] "
                       "* exp(sd * z), rounded to 100, at least 500",
            "median": P.DEAL_MEDIAN, "size_coef": P.DEAL_SIZE, "sd": P.DEAL_SD,
        },
        "churn": {
            "model": "shifted_beta_geometric",
            "formula": "theta_i ~ Beta(alpha, beta) of the segment, times churn_multiplier[tier]; "
                       "a contract renews each year with probability 1 - theta_i",
            "renewal_period_days": 365,
            "by_segment": {g: dict(v) for g, v in P.CHURN.items()},
            "abm_churn_multiplier": {t: P.ABM_EFFECTS[t]["churn_multiplier"] for t in ABM_TIERS},
        },
        "deal_phase_touches": {
            "rate_per_week": DEAL_PHASE_RATE,
            "signals": dict(DEAL_PHASE_SIGNALS),
            "enter_hazard": False,
            "note": "sales touches while an opportunity is open; consequences of the "
                    "opportunity, never causes (they do not enter E)",
        },
        "channel_effects": {
            "conversion": "opportunity_created",
            "method": "counterfactual removal with common random numbers: the hazard is "
                      "re-run with the channel's touches removed; expected conversions are "
                      "sum over accounts and weeks of h_it while at risk",
            "baseline_expected_conversions": base.expected_conversions,
            "baseline_realised_conversions": base.realised_conversions,
            "baseline_expected_wins": base.expected_wins,
            "incremental_conversions": {c: v["expected_conversions_lost"] for c, v in removal.items()},
            "realised_incremental_conversions": {
                c: v["realised_conversions_lost"] for c, v in removal.items()
            },
            "shares": {c: (v / tot if tot > 0 else 0.0) for c, v in lost.items()},
            "incremental_wins": {c: v["expected_wins_lost"] for c, v in removal.items()},
            "win_shares": {c: (v / tot_w if tot_w > 0 else 0.0) for c, v in lost_w.items()},
            "fixed_path_method": "sum over the factual at-risk account-weeks of h_it - h^{-c}_it "
                                 "(first-order effect; ignores that a lost opportunity leaves "
                                 "the account at risk later)",
            "incremental_conversions_fixed_path": {
                c: v["fixed_path_conversions_lost"] for c, v in removal.items()
            },
            "shares_fixed_path": _shares(
                {c: v["fixed_path_conversions_lost"] for c, v in removal.items()}
            ),
            "incremental_wins_fixed_path": {
                c: v["fixed_path_wins_lost"] for c, v in removal.items()
            },
        },
        "naive_abm_lift": naive,
        "true_abm_effect": true,
        "channels": list(P.CHANNEL_NAMES),
        "signals": list(P.SIGNAL_NAMES),
        "campaign_channels": list(campaign_channels()),
        "row_counts": rows,
        "marketing_touchpoints": n_marketing,
    }
