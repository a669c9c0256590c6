"""Accounts, ABM targeting and buying committees, as integer-coded arrays.

Accounts
    segment ``g ~ Categorical(share_g)``; ``log10(revenue) ~ N(mu_g, sd_g)``;
    ``size = (log10(revenue) - 8.0) / 0.8`` (standardised log revenue);
    industry, region and business unit are independent categoricals and
    ``fit = fit_industry + fit_region + fit_bu`` (the ideal-customer-profile fit,
    a function of observed columns only).

ABM targeting (ordered logit on observables: selection on size and fit)
    ``z = g_size size + g_fit fit + eps``, ``eps ~ Logistic(0, 1)``; the tier is
    ``none`` if ``z < c1``, ``one_to_many`` if ``c1 <= z < c2``, ``one_to_few``
    if ``c2 <= z < c3`` and ``one_to_one`` otherwise. Because size and fit also
    drive engagement and outcomes, a naive tier comparison is biased upwards.

Buying committees
    ``n_contacts = clip(3 + Poisson(exp(a + b size)), 3, 40)``; role
    ``~ Categorical(role_share)``, seniority and department ``~ P(. | role)``.
    Each contact has an activity ``a_j = role_activity * seniority_activity *
    LogNormal(0, 0.6)`` and, per touch class k, a pick weight
    ``a_j * affinity[role_j, k]``: a touch of class k lands on contact j of its
    account with probability proportional to that weight. A touch counts in
    the exposure with ``m_j = role_multiplier[role_j] * seniority_multiplier[sen_j]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from features.contracts import BUYING_ROLES, SENIORITIES

from . import _params as P

__all__ = ["Accounts", "Contacts", "simulate_accounts", "simulate_contacts"]

#: tier codes follow ABM_TIERS: 0 one_to_one, 1 one_to_few, 2 one_to_many, 3 none
TIER_NONE = 3


@dataclass(frozen=True)
class Accounts:
    """Integer-coded accounts (n,) arrays."""

    segment: np.ndarray
    industry: np.ndarray
    region: np.ndarray
    business_unit: np.ndarray
    tier: np.ndarray
    revenue: np.ndarray  # float64, NaN when missing in the export
    size: np.ndarray
    fit: np.ndarray

    @property
    def n(self) -> int:
        return len(self.tier)


@dataclass(frozen=True)
class Contacts:
    """Integer-coded contacts, grouped by account (contacts of account i are
    ``offsets[i]:offsets[i + 1]``)."""

    account: np.ndarray
    role: np.ndarray
    seniority: np.ndarray
    department: np.ndarray
    multiplier: np.ndarray  # role x seniority multiplier of a touch
    offsets: np.ndarray  # (n_accounts + 1,)
    pick_cumsum: np.ndarray  # (n_classes, n_contacts) cumulative pick weights

    @property
    def n(self) -> int:
        return len(self.account)


def _categorical(rng: np.random.Generator, table: dict, n: int) -> np.ndarray:
    shares = np.array([v[0] if isinstance(v, tuple) else v for v in table.values()])
    return rng.choice(len(shares), size=n, p=shares / shares.sum()).astype(np.int16)


def _conditional(rng: np.random.Generator, given: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Draw one category per row from ``probs[given]`` by inverse CDF."""
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(given))
    out = (u[:, None] > cum[given]).sum(axis=1)
    return np.minimum(out, probs.shape[1] - 1).astype(np.int16)


def simulate_accounts(n: int, rng: np.random.Generator) -> Accounts:
    """Draw ``n`` accounts with firmographics, fit and a (biased) ABM tier."""
    segment = _categorical(rng, P.SEGMENTS, n)
    seg = list(P.SEGMENTS.values())
    mu = np.array([s[1] for s in seg])[segment]
    sd = np.array([s[2] for s in seg])[segment]
    log10_revenue = mu + sd * rng.standard_normal(n)
    size = (log10_revenue - P.SIZE_CENTER) / P.SIZE_SCALE

    industry = _categorical(rng, P.INDUSTRIES, n)
    region = _categorical(rng, P.REGIONS, n)
    business_unit = _categorical(rng, P.BUSINESS_UNITS, n)
    fit = (
        np.array([v[1] for v in P.INDUSTRIES.values()])[industry]
        + np.array([v[1] for v in P.REGIONS.values()])[region]
        + np.array([v[1] for v in P.BUSINESS_UNITS.values()])[business_unit]
    )

    latent = (
        P.TIER_PROPENSITY["size"] * size
        + P.TIER_PROPENSITY["fit"] * fit
        + rng.logistic(size=n)
    )
    level = np.searchsorted(np.asarray(P.TIER_CUTPOINTS), latent, side="right")
    tier = (TIER_NONE - level).astype(np.int16)

    revenue = np.round(10.0**log10_revenue, -3)
    revenue[rng.random(n) < P.MISSING_REVENUE_SHARE] = np.nan
    return Accounts(segment, industry, region, business_unit, tier, revenue, size, fit)


def simulate_contacts(accounts: Accounts, rng: np.random.Generator) -> Contacts:
    """Draw each account's buying committee (3..40 contacts, bigger for bigger accounts)."""
    a, b = P.COMMITTEE_LOG_MEAN
    n_per = P.COMMITTEE_MIN + rng.poisson(np.exp(a + b * accounts.size))
    n_per = np.clip(n_per, P.COMMITTEE_MIN, P.COMMITTEE_MAX)
    offsets = np.zeros(accounts.n + 1, dtype=np.int64)
    np.cumsum(n_per, out=offsets[1:])
    account = np.repeat(np.arange(accounts.n, dtype=np.int32), n_per)
    total = len(account)

    role = _categorical(rng, P.ROLE_SHARES, total)
    seniority = _conditional(rng, role, P.SENIORITY_GIVEN_ROLE)
    department = _conditional(rng, role, P.DEPARTMENT_GIVEN_ROLE)

    role_mult = np.array([P.ROLE_MULTIPLIERS[r] for r in BUYING_ROLES])
    sen_mult = np.array([P.SENIORITY_MULTIPLIERS[s] for s in SENIORITIES])
    multiplier = role_mult[role] * sen_mult[seniority]

    activity = (
        np.array([P.ROLE_ACTIVITY[r] for r in BUYING_ROLES])[role]
        * np.array([P.SENIORITY_ACTIVITY[s] for s in SENIORITIES])[seniority]
        * rng.lognormal(0.0, 0.6, size=total)
    )
    weights = activity[None, :] * P.ROLE_CLASS_AFFINITY[role].T  # (classes, contacts)
    pick_cumsum = np.cumsum(weights, axis=1)
    return Contacts(account, role, seniority, department, multiplier, offsets, pick_cumsum)


def pick_contacts(
    contacts: Contacts, account: np.ndarray, touch_class: int, u: np.ndarray
) -> np.ndarray:
    """Pick one contact of each touch's account, proportionally to its class weight.

    Vectorised inverse CDF on the global cumulative weights of the class:
    the target ``lo + u (hi - lo)`` falls inside the account's block.
    """
    cum = contacts.pick_cumsum[touch_class]
    first = contacts.offsets[account]
    last = contacts.offsets[account + 1] - 1
    lo = np.where(first > 0, cum[np.maximum(first - 1, 0)], 0.0)
    hi = cum[last]
    idx = np.searchsorted(cum, lo + u * (hi - lo), side="right")
    return np.clip(idx, first, last).astype(np.int32)
