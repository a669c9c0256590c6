"""Touch streams: who touched what, when, through which channel and campaign.

Marketing touches (exogenous to the pipeline)
    For account ``i``, signal ``s`` and week ``t`` the count is Poisson with rate

    .. math::

        \\lambda_{ist} = r_s \\, (n_i / 10)^{\\kappa_s} \\, f_t \\, q_t
            \\exp(0.25\\, size_i + 0.3\\, fit_i + u_i + g_s b_{it}) \\, m_{tier(i), c(s)}

    with ``r_s`` the signal's base rate (times the global scale 1.07), ``n_i`` the
    committee size, ``f_t`` seasonality, ``q_t`` the share of
    week ``t`` inside the window, ``u_i ~ N(-0.32, 0.8)`` an account random
    effect, ``b_it`` an in-market burst process (``b_t = 0.7 b_{t-1} + 1.4
    Bernoulli(0.035)``; intent reacts with gain ``g = 1.6``) and
    ``m >= 1`` the ABM touch-rate multiplier of the account's tier for the
    signal's channel. Bursts and ``u_i`` move touches only: they do not enter
    the opportunity hazard, so the touch -> opportunity effects are causal.

    A touch is anonymous (no contact) with the signal's anonymous share (intent
    always); otherwise it lands on a contact of the account drawn by the
    contact pick weights of the signal's touch class (see ``_world``).

Counterfactual "no ABM" stream (Poisson thinning)
    Each touch also draws ``v ~ U(0, 1)`` and is kept in the counterfactual
    stream when ``v < 1 / m``: the kept touches are exactly a Poisson stream
    with the non-ABM rate, coupled to the factual one (common random numbers).

Sufficient statistics for the hazard
    ``X[t, i, s] = sum of m_j`` over the week's touches (``m_j`` the contact's
    role x seniority multiplier, 1 for anonymous touches), and per channel the
    count of known-role touches ``Y[c, t, i, r]`` (for committee coverage).

Opt-in worlds (``generate_dataset(world=...)``, ``_params.WORLDS``)
    The default world is the process above, drawn exactly as before. A
    :class:`World` may set a per-signal burst gain ``g_s`` (``exp(g_s b_it)``;
    "intent-led": pricing page, demos, meetings and intent react strongly,
    email opens and display clicks not at all), the burst process
    ``(start, decay, jump)``, and *noise touches*: for the signals of
    ``noise_touches`` an extra Poisson stream with rate

    .. math::

        \\nu_{ist} = r^{noise}_s (n_i / 10)^{\\kappa^{noise}_s} f_t q_t
            e^{v_{is}} m_{tier(i), c(s)}, \\qquad
        v_{is} \\sim N(-\\sigma_s^2 / 2, \\sigma_s),

    with no size, fit, ``u_i`` or burst term (newsletter list size and
    machine opens, bots, scanner clicks), anonymous with its own share, drawn
    from a separate random stream. Noise touches are recorded like any other
    touch of their signal and enter ``X`` (so the planted weights stay the
    truth of the observed data).

Deal-phase touches (after the hazard)
    While an opportunity is open its account receives sales touches
    (meetings, demos, workshops, email clicks, pricing-page visits) at
    ``1.5 (n_i / 10)^0.5`` per week. They are consequences of the opportunity,
    not causes: they never enter the exposure ``E``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _params as P
from ._world import Accounts, Contacts, pick_contacts

__all__ = ["Calendar", "TouchStream", "World", "simulate_touches", "deal_phase_touches"]

DAY = 86_400
WEEK = 7 * DAY
QUARTER_DAYS = 91

#: hour-of-day profile of B2B touches (UTC), business hours dominate
_HOUR_WEIGHTS = np.array(
    [1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 11, 10, 9, 10, 11, 10, 8, 6, 4, 3, 2, 2, 1, 1], float
)
_HOUR_CDF = np.cumsum(_HOUR_WEIGHTS) / _HOUR_WEIGHTS.sum()

#: deal-phase signal mix while an opportunity is open
DEAL_PHASE_RATE = 1.5
DEAL_PHASE_SIGNALS: dict[str, float] = {
    "sales_meeting": 0.40,
    "demo_attend": 0.15,
    "email_click": 0.20,
    "pricing_page_visit": 0.12,
    "workshop_attend": 0.05,
    "content_download": 0.08,
}


@dataclass(frozen=True)
class Calendar:
    """The simulation window in epoch seconds, cut into weeks."""

    start: int
    end: int

    @property
    def n_weeks(self) -> int:
        return int(-(-(self.end - self.start) // WEEK))

    @property
    def week_start(self) -> np.ndarray:
        return self.start + WEEK * np.arange(self.n_weeks, dtype=np.int64)

    @property
    def week_fraction(self) -> np.ndarray:
        """Share of each week inside ``[start, end]``."""
        return np.minimum(self.end - self.week_start, WEEK) / WEEK

    @property
    def n_quarters(self) -> int:
        return (self.end - self.start) // (QUARTER_DAYS * DAY) + 1

    def seasonality(self) -> np.ndarray:
        """Weekly activity factor: a mild annual cycle, a summer and a year-end dip."""
        mid = (self.week_start + WEEK // 2).astype("datetime64[s]")
        doy = (mid - mid.astype("datetime64[Y]")).astype("timedelta64[D]").astype(float)
        f = np.exp(0.12 * np.sin(2 * np.pi * (doy - 60.0) / 365.25))
        f[(doy >= 200) & (doy < 235)] *= 0.8
        f[(doy >= 353) | (doy < 4)] *= 0.45
        return f

    def day_cdf(self) -> np.ndarray:
        """CDF over the 7 days of a week (weekends are quiet)."""
        first = (self.start // DAY + 3) % 7  # 1970-01-01 was a Thursday: Monday = 0
        weekday = (first + np.arange(7)) % 7
        w = np.where(weekday >= 5, 0.12, 1.0)
        return np.cumsum(w) / w.sum()


@dataclass
class TouchStream:
    """Touches as integer-coded arrays, plus the hazard's sufficient statistics."""

    account: np.ndarray  # int32
    contact: np.ndarray  # int32, -1 anonymous
    time: np.ndarray  # int64 epoch seconds
    signal: np.ndarray  # int16 index into SIGNAL_NAMES
    campaign: np.ndarray  # int32, -1 none
    asset: np.ndarray  # int32, -1 none
    cost: np.ndarray  # float64
    x: np.ndarray | None = None  # (W, N, S) float32 weighted counts
    x_no_abm: np.ndarray | None = None  # (W, N, S) float32, thinned stream
    y: np.ndarray | None = None  # (C, W, N, R) uint8 role counts per channel
    y_no_abm: np.ndarray | None = None  # (W, N, R) uint8, thinned stream

    def __len__(self) -> int:
        return len(self.time)


def _signal_meta() -> dict[str, np.ndarray]:
    names = P.SIGNAL_NAMES
    chan = np.array([P.CHANNEL_NAMES.index(P.SIGNALS[s][0]) for s in names])
    cls = np.array([P.TOUCH_CLASSES.index(P.SIGNALS[s][4]) for s in names])
    return {
        "channel": chan,
        "class": cls,
        "campaign": np.array([P.SIGNALS[s][5] for s in names]),
        "asset": np.array([P.SIGNALS[s][6] for s in names]),
        "anonymous": np.array([P.SIGNALS[s][3] for s in names]),
    }


def campaign_channels() -> tuple[str, ...]:
    """Channels that run campaigns (at least one of their signals carries one)."""
    return tuple(
        dict.fromkeys(P.SIGNALS[s][0] for s in P.SIGNAL_NAMES if P.SIGNALS[s][5])
    )


def abm_touch_multipliers() -> np.ndarray:
    """(tiers, channels) touch-rate multipliers, all >= 1."""
    from features.contracts import ABM_TIERS

    m = np.ones((len(ABM_TIERS), len(P.CHANNEL_NAMES)))
    for k, tier in enumerate(ABM_TIERS):
        for ch, v in P.ABM_TOUCH_MULTIPLIERS[tier].items():
            m[k, P.CHANNEL_NAMES.index(ch)] = v
    return m


def _times_in_weeks(
    rng: np.random.Generator, week: np.ndarray, cal: Calendar
) -> np.ndarray:
    """A business-hours-shaped timestamp inside each touch's week, within the window."""
    n = len(week)
    day = np.searchsorted(cal.day_cdf(), rng.random(n), side="right")
    hour = np.searchsorted(_HOUR_CDF, rng.random(n), side="right")
    sec = rng.integers(0, 3600, size=n)
    t = cal.start + week.astype(np.int64) * WEEK + day * DAY + hour * 3600 + sec
    late = t > cal.end
    if late.any():
        ws = cal.start + week[late].astype(np.int64) * WEEK
        t[late] = ws + (rng.random(late.sum()) * (cal.end - ws)).astype(np.int64)
    return t


def _decorate(
    rng: np.random.Generator,
    account: np.ndarray,
    time: np.ndarray,
    sig: int,
    contacts: Contacts,
    cal: Calendar,
    meta: dict[str, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Contact, campaign, asset and cost of touches of one signal."""
    n = len(account)
    name = P.SIGNAL_NAMES[sig]
    anon_share = meta["anonymous"][sig]
    contact = np.full(n, -1, dtype=np.int32)
    known = rng.random(n) >= anon_share if anon_share > 0 else np.ones(n, bool)
    u = rng.random(n)
    if known.any():
        contact[known] = pick_contacts(contacts, account[known], int(meta["class"][sig]), u[known])

    channel = P.CHANNEL_NAMES[meta["channel"][sig]]
    campaign = np.full(n, -1, dtype=np.int32)
    asset = np.full(n, -1, dtype=np.int32)
    k = P.CAMPAIGNS_PER_QUARTER
    if meta["campaign"][sig]:
        block = campaign_channels().index(channel) * cal.n_quarters * k
        quarter = (time - cal.start) // (QUARTER_DAYS * DAY)
        campaign = (block + quarter * k + rng.integers(0, k, size=n)).astype(np.int32)
        if meta["asset"][sig]:
            a = P.ASSETS_PER_CAMPAIGN
            asset = (P.WEB_PAGES + campaign * a + rng.integers(0, a, size=n)).astype(np.int32)
    elif meta["asset"][sig]:
        lo, hi = (0, 3) if name == "pricing_page_visit" else (3, P.WEB_PAGES)
        asset = rng.integers(lo, hi, size=n).astype(np.int32)

    base = P.COST_PER_TOUCH[channel]
    if base > 0:
        sd = P.COST_NOISE_SD
        cost = np.round(base * np.exp(sd * rng.standard_normal(n) - sd * sd / 2), 2)
    else:
        cost = np.zeros(n)
    return contact, campaign, asset, cost


@dataclass(frozen=True)
class World:
    """Resolved opt-in departures from the default world (see ``_params.WORLDS``)."""

    name: str
    signal_weights: dict[str, float]
    burst_gains: dict[str, float]
    noise_touches: dict[str, tuple[float, float, float, float]]
    bursts: tuple[float, float, float]  # (start probability, decay, jump)
    hazard_intercept: float


def simulate_touches(
    accounts: Accounts,
    contacts: Contacts,
    cal: Calendar,
    rng: np.random.Generator,
    *,
    world: World | None = None,
    world_rng: np.random.Generator | None = None,
) -> TouchStream:
    """Marketing touch streams for every account, signal and week (see module doc).

    ``world=None`` is the default world (and draws exactly what it always
    drew); a :class:`World` sets per-signal burst gains and adds the noise
    touches of ``world.noise_touches``, drawn from ``world_rng``.
    """
    n, w = accounts.n, cal.n_weeks
    n_sig, n_chan = len(P.SIGNAL_NAMES), len(P.CHANNEL_NAMES)
    n_roles = len(P.COVERAGE_ROLES)
    meta = _signal_meta()
    committee = np.diff(contacts.offsets).astype(float)
    abm_mult = abm_touch_multipliers()[accounts.tier]  # (N, C)

    sd = P.ACCOUNT_RATE_SD
    u_i = sd * rng.standard_normal(n) - sd * sd / 2
    account_log_rate = P.RATE_SIZE * accounts.size + P.RATE_FIT * accounts.fit + u_i

    if world is None:
        b_start, b_decay, b_jump = P.BURST_START, P.BURST_DECAY, P.BURST_JUMP
    else:
        b_start, b_decay, b_jump = world.bursts
    starts = rng.random((n, w)) < b_start
    burst = np.empty((n, w), dtype=np.float64)
    level = np.zeros(n)
    for t in range(w):
        level = b_decay * level + b_jump * starts[:, t]
        burst[:, t] = level
    del starts
    log_week = np.log(cal.seasonality() * cal.week_fraction)

    x = np.zeros((w, n, n_sig), dtype=np.float32)
    x_no = np.zeros((w, n, n_sig), dtype=np.float32)
    y = np.zeros((n_chan, w, n, n_roles), dtype=np.uint8)
    y_no = np.zeros((w, n, n_roles), dtype=np.uint8)
    # role code -> coverage slot (unknown role has no slot)
    from features.contracts import BUYING_ROLES

    slot = np.array(
        [P.COVERAGE_ROLES.index(r) if r in P.COVERAGE_ROLES else -1 for r in BUYING_ROLES]
    )

    parts: list[tuple[np.ndarray, ...]] = []

    def emit(lam: np.ndarray, s: int, r: np.random.Generator, m: dict, first: bool) -> None:
        """Draw one Poisson stream of signal ``s`` and add it to the statistics."""
        chan = int(m["channel"][s])
        counts = r.poisson(lam).ravel()
        del lam
        cells = np.flatnonzero(counts)
        cell = np.repeat(cells, counts[cells])
        del counts, cells
        acct = (cell // w).astype(np.int32)
        week = (cell % w).astype(np.int32)
        del cell
        time = _times_in_weeks(r, week, cal)
        contact, campaign, asset, cost = _decorate(r, acct, time, s, contacts, cal, m)
        keep_no_abm = r.random(len(acct)) * abm_mult[acct, chan] < 1.0

        known = contact >= 0
        mult = np.where(known, contacts.multiplier[np.maximum(contact, 0)], P.ANONYMOUS_MULTIPLIER)
        flat = week.astype(np.int64) * n + acct
        xs = np.bincount(flat, weights=mult, minlength=w * n).reshape(w, n)
        xs_no = np.bincount(
            flat[keep_no_abm], weights=mult[keep_no_abm], minlength=w * n
        ).reshape(w, n)
        if first:
            x[:, :, s] = xs
            x_no[:, :, s] = xs_no
        else:
            x[:, :, s] += xs
            x_no[:, :, s] += xs_no
        del xs, xs_no
        role_slot = slot[contacts.role[np.maximum(contact, 0)]]
        has_slot = known & (role_slot >= 0)
        rflat = flat * n_roles + role_slot
        for target, mask in ((y[chan], has_slot), (y_no, has_slot & keep_no_abm)):
            cnt = np.bincount(rflat[mask], minlength=w * n * n_roles).reshape(w, n, n_roles)
            np.minimum(target.astype(np.int64) + cnt, 255, out=cnt)
            target[...] = cnt
            del cnt
        parts.append(
            (acct, contact, time, np.full(len(acct), s, np.int16), campaign, asset, cost)
        )

    for s, name in enumerate(P.SIGNAL_NAMES):
        chan = int(meta["channel"][s])
        rate, kappa = P.BASE_RATE_SCALE * P.SIGNALS[name][1], P.SIGNALS[name][2]
        if world is None:
            gain = P.INTENT_BURST_GAIN if name == "intent_surge" else 1.0
        else:
            gain = float(world.burst_gains[name])
        log_i = np.log(rate) + kappa * np.log(committee / P.REFERENCE_COMMITTEE)
        log_i = log_i + account_log_rate + np.log(abm_mult[:, chan])
        lam = np.exp(log_i[:, None] + log_week[None, :] + gain * burst)
        emit(lam, s, rng, meta, True)
        if world is not None and name in world.noise_touches:
            # non-human / list-driven touches: own account level, no buying state
            assert world_rng is not None
            base, k_noise, sd_noise, anon = world.noise_touches[name]
            v = sd_noise * world_rng.standard_normal(n) - sd_noise * sd_noise / 2
            log_v = (
                np.log(P.BASE_RATE_SCALE * base)
                + k_noise * np.log(committee / P.REFERENCE_COMMITTEE)
                + v + np.log(abm_mult[:, chan])
            )
            m_noise = dict(meta, anonymous=meta["anonymous"].copy())
            m_noise["anonymous"][s] = anon
            emit(np.exp(log_v[:, None] + log_week[None, :]), s, world_rng, m_noise, False)
    del burst
    cols = [np.concatenate([p[k] for p in parts]) for k in range(7)]
    return TouchStream(*cols, x=x, x_no_abm=x_no, y=y, y_no_abm=y_no)


def deal_phase_touches(
    opp_account: np.ndarray,
    opp_open: np.ndarray,
    opp_close: np.ndarray,
    contacts: Contacts,
    cal: Calendar,
    rng: np.random.Generator,
) -> TouchStream:
    """Sales touches while each opportunity is open (``[open, min(close, end)]``)."""
    meta = _signal_meta()
    committee = np.diff(contacts.offsets).astype(float)[opp_account]
    close = np.minimum(opp_close, cal.end)
    span = np.maximum(close - opp_open, 0)
    lam = DEAL_PHASE_RATE * np.sqrt(committee / P.REFERENCE_COMMITTEE) * span / WEEK
    counts = rng.poisson(lam)
    opp = np.repeat(np.arange(len(opp_account)), counts)
    time = opp_open[opp] + (rng.random(len(opp)) * span[opp]).astype(np.int64)
    names = list(DEAL_PHASE_SIGNALS)
    probs = np.array(list(DEAL_PHASE_SIGNALS.values()))
    which = rng.choice(len(names), size=len(opp), p=probs / probs.sum())
    parts = []
    for k, name in enumerate(names):
        sel = which == k
        s = P.SIGNAL_NAMES.index(name)
        acct = opp_account[opp[sel]].astype(np.int32)
        t = time[sel]
        contact, campaign, asset, cost = _decorate(rng, acct, t, s, contacts, cal, meta)
        parts.append((acct, contact, t, np.full(len(acct), s, np.int16), campaign, asset, cost))
    cols = [np.concatenate([p[k] for p in parts]) for k in range(7)]
    return TouchStream(*cols)
