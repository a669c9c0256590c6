"""Account signal features as of a date: counts, recency decay, coverage, momentum.

One row per account (every account of ``accounts``, zeros when it has no
touches) and as-of date ``T``. Only touches with ``timestamp <= T`` are used;
anything later never leaks in. Touches older than the lookback are ignored:
a touch is *in the lookback window* iff ``T - L < timestamp <= T`` with
``L = lookback_days`` (``None``: no lower bound). Every window below is
half-open the same way, ``(T - w, T]``.

Definitions
-----------
Let ``age_i = (T - t_i)`` in days (fractional) and ``h = half_life_days``.
The decay weight of a touch is

.. math:: d_i(T) = 0.5^{age_i / h}.

Counts and decayed sums, over touches in the lookback window:

``n_touches``, ``decayed_touches``
    all touches of the account: :math:`\\#\\{i\\}` and :math:`\\sum_i d_i(T)`.
``n_signal__<signal>``, ``decayed_signal__<signal>``
    the same restricted to one signal (touch type).
``n_channel__<channel>``, ``decayed_channel__<channel>``
    the same restricted to one channel.
``n_anonymous_touches``
    touches with a null ``contact_id`` (intent data, anonymous web visits).
    They count in every touch count and decayed sum above and in momentum, but
    not in anything about contacts or roles below.

Contacts and buying roles, over *engaged contacts*: contacts with at least one
touch in the lookback window (a contact is counted under the account of its
touches):

``engaged_contacts``
    number of engaged contacts.
``decayed_role__<role>``
    decayed engagement of a buying role,
    :math:`E_r = \\sum_{i:\\ role(contact_i) = r} d_i(T)`.
``roles_covered``
    number of buying roles other than ``unknown`` with an engaged contact.
``role_coverage_weighted``
    engagement-weighted coverage in ``[0, 1]``,

    .. math::

        C = \\frac{\\sum_r \\pi_r \\left(1 - e^{-E_r / s}\\right)}{\\sum_r \\pi_r}

    with role importance :math:`\\pi_r` (``role_importance``) and saturation
    :math:`s` (``coverage_saturation``). Each role saturates: a role's first
    strong touches add most, more touches of an already engaged role add
    little, so breadth over weak roles cannot buy what a few strong touches of
    key roles give. Default importances (:data:`DEFAULT_ROLE_IMPORTANCE`):

    =====================  ====
    economic_buyer         1.0
    decision_maker         1.0
    champion               0.8
    technical_evaluator    0.5
    influencer             0.4
    procurement            0.3
    user                   0.2
    unknown                0.0
    =====================  ====

    The three key roles hold 2.8 of the 4.2 total: an account whose economic
    buyer and decision maker are each saturated scores 2/4.2 = 0.48, more
    than one whose users, influencers, technical evaluators and procurement are
    all saturated (1.4/4.2 = 0.33).
``seniority_share__<seniority>``, ``department_share__<department>``
    share of engaged contacts with that seniority / department (sums to 1 over
    the vocabulary when every value is in it). All shares are ``0.0`` when the
    account has no engaged contact: read them together with
    ``engaged_contacts``. A null or blank seniority or department is
    ``unknown``.

Momentum, over all touches of the account (anonymous included), for each
window ``w`` of ``momentum_windows`` (days):

.. math::

    n_w(T) = \\#\\{i : T - w < t_i \\le T\\}, \\qquad
    D_w(T) = \\sum_{i : T - w < t_i \\le T} 0.5^{(T - t_i)/h},

``momentum_<w>d``
    :math:`(n_w(T) - n_w(T - w)) / (n_w(T - w) + 1)`: the last ``w`` days
    against the ``w`` days before them; 0 when flat, > 0 when accelerating.
``momentum_decayed_<w>d``
    :math:`(D_w(T) - D_w(T - w)) / (D_w(T - w) + 1)`. The previous window is
    decayed to *its own* end ``T - w``, so a steady stream of touches gives 0
    rather than a bias from the extra ``w`` days of decay.

The lookback must cover the momentum windows: ``lookback_days >= 2 *
max(momentum_windows)`` is required, so momentum never depends on it.

Columns and vocabularies
------------------------
Columns, in order: ``account_id``, ``as_of``, ``n_touches``,
``n_anonymous_touches``, ``n_signal__*``, ``n_channel__*``,
``decayed_touches``, ``decayed_signal__*``, ``decayed_channel__*``,
``engaged_contacts``, ``roles_covered``, ``role_coverage_weighted``,
``decayed_role__*``, ``seniority_share__*``, ``department_share__*``, then
``momentum_<w>d``, ``momentum_decayed_<w>d`` per window. Counts are ``int64``,
everything else ``float64``; ``as_of`` is ``datetime64[ns, UTC]``.

The ``<value>`` part of a name is the value lower-cased with every run of
characters other than ``a-z0-9`` replaced by ``_`` (``"Web Visit"`` ->
``web_visit``). Vocabularies never depend on the as-of date, so the column set
is the same for every date and call on the same tables:

- signals, channels: every value of the *whole* touchpoint table, sorted
  (including touches after the as-of date: this only names columns, their
  values stay zero), unless given with ``signals=`` / ``channels=``, which
  pins the columns across data sets (touches of other values then count only
  in the totals, momentum and contact features);
- buying roles: :data:`features.contracts.BUYING_ROLES`;
- seniorities: :data:`features.contracts.SENIORITIES` then any other value of
  ``contacts``, sorted; departments: the sorted values of ``contacts``;
  both overridable with ``seniorities=`` / ``departments=``.

As-of dates are anything :class:`pandas.Timestamp` accepts (``"2024-06-30"``,
a ``Timestamp``, a ``datetime``); a tz-naive date is taken as UTC, an aware one
is converted to UTC. ``"2024-06-30"`` means midnight at the start of that day.

Implementation
--------------
:func:`build_signal_panel` encodes touches to integer arrays once, sorts them
by time once, and carries counts and decayed sums forward from one as-of date
to the next (:mod:`features._signals_rolling`): cost ``O(n_touches + n_dates
x n_accounts x n_columns)``. :func:`build_signal_features` is the panel of one
date.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from features._signals_rolling import rolling_window_sums
from features.contracts import BUYING_ROLES, SENIORITIES
from features.dates import to_utc
from features.errors import ConfigError, DataValidationError, SchemaError

__all__ = [
    "DEFAULT_ROLE_IMPORTANCE",
    "SignalConfig",
    "build_signal_features",
    "build_signal_panel",
    "signal_feature_names",
]

logger = logging.getLogger(__name__)

#: Default buying-role importances ``pi_r`` of ``role_coverage_weighted``.
DEFAULT_ROLE_IMPORTANCE: dict[str, float] = {
    "economic_buyer": 1.0,
    "decision_maker": 1.0,
    "champion": 0.8,
    "technical_evaluator": 0.5,
    "influencer": 0.4,
    "procurement": 0.3,
    "user": 0.2,
    "unknown": 0.0,
}

_NS_PER_DAY = 86_400 * 10**9
_UNKNOWN = "unknown"


@dataclass(frozen=True)
class SignalConfig:
    """Parameters of the account signal features.

    Parameters
    ----------
    half_life_days : float, default 30.0
        Half-life ``h`` of the decay weight ``0.5 ** (age_days / h)``.
    lookback_days : int or None, default 365
        Touches more than this many days before the as-of date are ignored
        (window ``(T - L, T]``); ``None`` keeps all history. Must be at least
        twice the longest momentum window.
    momentum_windows : tuple of int, default (30, 60, 90)
        Momentum window lengths in days; one pair of momentum columns each.
    role_importance : dict of str to float, default DEFAULT_ROLE_IMPORTANCE
        Importance ``pi_r >= 0`` of each buying role in
        ``role_coverage_weighted``. Keys must be buying roles of the contract;
        a role left out has importance 0 (the mapping replaces the default, it
        is not merged into it).
    coverage_saturation : float, default 1.0
        Saturation ``s``: a role with decayed engagement ``E`` covers
        ``1 - exp(-E / s)`` of its importance.

    Raises
    ------
    ConfigError
        When a value is out of range; the message names it and the fix.
    """

    half_life_days: float = 30.0
    lookback_days: int | None = 365
    momentum_windows: tuple[int, ...] = (30, 60, 90)
    role_importance: dict[str, float] = field(
        default_factory=lambda: dict(DEFAULT_ROLE_IMPORTANCE)
    )
    coverage_saturation: float = 1.0

    def __hash__(self) -> int:  # the dict field would make the generated hash fail
        return hash(
            (
                self.half_life_days,
                self.lookback_days,
                self.momentum_windows,
                tuple(sorted(self.role_importance.items())),
                self.coverage_saturation,
            )
        )

    def __post_init__(self) -> None:
        h = self.half_life_days
        if isinstance(h, bool) or not isinstance(h, (int, float)) or not (
            math.isfinite(h) and h > 0
        ):
            raise ConfigError(
                f"SignalConfig.half_life_days must be a positive number of days, "
                f"got {h!r} (e.g. 30.0)"
            )
        windows = tuple(self.momentum_windows)
        for w in windows:
            if isinstance(w, bool) or not isinstance(w, (int, np.integer)) or w <= 0:
                raise ConfigError(
                    f"SignalConfig.momentum_windows must be positive whole days, "
                    f"got {self.momentum_windows!r} (e.g. (30, 60, 90))"
                )
        if len(set(windows)) != len(windows):
            raise ConfigError(
                f"SignalConfig.momentum_windows has duplicates: "
                f"{self.momentum_windows!r}; list each window once"
            )
        windows = tuple(int(w) for w in windows)
        object.__setattr__(self, "momentum_windows", windows)
        lb = self.lookback_days
        if lb is not None:
            if isinstance(lb, bool) or not isinstance(lb, (int, np.integer)) or lb <= 0:
                raise ConfigError(
                    f"SignalConfig.lookback_days must be a positive whole number "
                    f"of days or None, got {lb!r}"
                )
            object.__setattr__(self, "lookback_days", int(lb))
            if windows and lb < 2 * max(windows):
                raise ConfigError(
                    f"SignalConfig.lookback_days={lb} is shorter than twice the "
                    f"longest momentum window (2 x {max(windows)} = "
                    f"{2 * max(windows)} days); raise lookback_days or shorten "
                    f"momentum_windows"
                )
        importance = dict(self.role_importance)
        unknown = sorted(set(importance) - set(BUYING_ROLES))
        if unknown:
            raise ConfigError(
                f"SignalConfig.role_importance names unknown buying roles "
                f"{unknown}; expected keys among {', '.join(BUYING_ROLES)}"
            )
        for role, v in importance.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (
                math.isfinite(v) and v >= 0
            ):
                raise ConfigError(
                    f"SignalConfig.role_importance[{role!r}] must be a finite "
                    f"number >= 0, got {v!r}"
                )
        if sum(importance.values()) <= 0:
            raise ConfigError(
                "SignalConfig.role_importance sums to 0: give at least one "
                "buying role a positive importance"
            )
        object.__setattr__(
            self, "role_importance", {r: float(v) for r, v in importance.items()}
        )
        s = self.coverage_saturation
        if isinstance(s, bool) or not isinstance(s, (int, float)) or not (
            math.isfinite(s) and s > 0
        ):
            raise ConfigError(
                f"SignalConfig.coverage_saturation must be a positive number, "
                f"got {s!r} (e.g. 1.0)"
            )


# --------------------------------------------------------------------------
# vocabularies and column names


@dataclass(frozen=True)
class _Vocab:
    signals: tuple[str, ...]
    channels: tuple[str, ...]
    seniorities: tuple[str, ...]
    departments: tuple[str, ...]
    roles: tuple[str, ...] = BUYING_ROLES


def _slug(value: str) -> str:
    slug = re.sub(r"[^0-9a-z]+", "_", str(value).lower()).strip("_")
    return slug or "blank"


def _slugs(kind: str, values: Sequence[str]) -> list[str]:
    out = [_slug(v) for v in values]
    seen: dict[str, str] = {}
    for value, slug in zip(values, out):
        if slug in seen:
            raise SchemaError(
                f"{kind} values {seen[slug]!r} and {value!r} both give the column "
                f"suffix {slug!r}; map them to one value (or rename one) before "
                f"building signal features"
            )
        seen[slug] = value
    return out


def _feature_names(vocab: _Vocab, config: SignalConfig) -> list[str]:
    sig = _slugs("signal", vocab.signals)
    chan = _slugs("channel", vocab.channels)
    names = ["n_touches", "n_anonymous_touches"]
    names += [f"n_signal__{s}" for s in sig] + [f"n_channel__{c}" for c in chan]
    names += ["decayed_touches"]
    names += [f"decayed_signal__{s}" for s in sig]
    names += [f"decayed_channel__{c}" for c in chan]
    names += ["engaged_contacts", "roles_covered", "role_coverage_weighted"]
    names += [f"decayed_role__{r}" for r in _slugs("buying_role", vocab.roles)]
    names += [f"seniority_share__{s}" for s in _slugs("seniority", vocab.seniorities)]
    names += [
        f"department_share__{d}" for d in _slugs("department", vocab.departments)
    ]
    for w in config.momentum_windows:
        names += [f"momentum_{w}d", f"momentum_decayed_{w}d"]
    return names


_INT_PREFIXES = ("n_", "engaged_contacts", "roles_covered")


def _clean_labels(values: pd.Series) -> pd.Series:
    """Null or blank labels become ``unknown``."""
    s = values.astype("str")
    blank = s.isna() | (s.str.strip() == "")
    return s.mask(blank, _UNKNOWN)


def _given_vocab(kind: str, values: Iterable[str] | None) -> tuple[str, ...] | None:
    if values is None:
        return None
    if isinstance(values, str):
        raise ConfigError(f"{kind}= must be a list of values, got the string {values!r}")
    out = tuple(str(v) for v in values)
    if len(set(out)) != len(out):
        raise ConfigError(f"{kind}= lists a value twice: {list(out)}")
    return out


def _make_vocab(
    signal_uniques: pd.Index,
    channel_uniques: pd.Index,
    contacts: pd.DataFrame,
    signals: Iterable[str] | None,
    channels: Iterable[str] | None,
    seniorities: Iterable[str] | None,
    departments: Iterable[str] | None,
) -> _Vocab:
    sig = _given_vocab("signals", signals)
    chan = _given_vocab("channels", channels)
    sen = _given_vocab("seniorities", seniorities)
    dep = _given_vocab("departments", departments)
    if sig is None:
        sig = tuple(sorted(str(v) for v in signal_uniques))
    if chan is None:
        chan = tuple(sorted(str(v) for v in channel_uniques))
    if sen is None:
        present = set(_clean_labels(contacts["seniority"]).unique())
        sen = SENIORITIES + tuple(sorted(present - set(SENIORITIES)))
    if dep is None:
        dep = tuple(sorted(set(_clean_labels(contacts["department"]).unique())))
    return _Vocab(signals=sig, channels=chan, seniorities=sen, departments=dep)


# --------------------------------------------------------------------------
# input checks and integer coding


def _require_columns(df: Any, table: str, columns: Sequence[str]) -> None:
    if not isinstance(df, pd.DataFrame):
        raise SchemaError(
            f"{table} must be a pandas DataFrame, got {type(df).__name__}"
        )
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SchemaError(
            f"{table} is missing column(s) {', '.join(missing)} needed for signal "
            f"features (has: {', '.join(map(str, df.columns))}); load it with "
            f"features.loading or rename the columns"
        )


def _examples(values: pd.Series | np.ndarray, k: int = 3) -> str:
    vals = pd.unique(np.asarray(values, dtype=object))[:k]
    return ", ".join(repr(v) for v in vals)


def _encode(values: pd.Series, vocab: pd.Index) -> np.ndarray:
    """Codes of ``values`` in ``vocab``; -1 for nulls and values not in it."""
    codes, uniques = pd.factorize(values)
    mapping = vocab.get_indexer(uniques)
    out = np.full(len(codes), -1, dtype=np.intp)
    ok = codes >= 0
    out[ok] = mapping[codes[ok]]
    return out


def _times_ns(timestamps: pd.Series) -> np.ndarray:
    dtype = timestamps.dtype
    if not isinstance(dtype, pd.DatetimeTZDtype):
        if pd.api.types.is_datetime64_dtype(dtype):
            raise SchemaError(
                "touchpoints.timestamp is tz-naive; the contract requires UTC "
                "(datetime64[ns, UTC]): use .dt.tz_localize('UTC') if the times "
                "are UTC, or load the table with features.loading"
            )
        raise SchemaError(
            f"touchpoints.timestamp has dtype {dtype}, expected datetime64[ns, UTC]; "
            f"load the table with features.loading (or pd.to_datetime(..., utc=True))"
        )
    if timestamps.isna().any():
        raise DataValidationError(
            f"touchpoints.timestamp has {int(timestamps.isna().sum())} null value(s); "
            f"the contract requires a timestamp on every touch: validate the table "
            f"with features.validation first"
        )
    return timestamps.dt.tz_convert("UTC").dt.as_unit("ns").array.asi8


def _as_of_ns(value: Any) -> int:
    return int(to_utc(value, "as_of").value)


@dataclass(frozen=True)
class _Coded:
    """Touches in the relevant time range, integer-coded and sorted by time."""

    times: np.ndarray  # int64 ns, ascending
    account: np.ndarray  # intp in [0, A)
    signal: np.ndarray  # intp in [0, S) or -1
    channel: np.ndarray  # intp in [0, C) or -1
    pair: np.ndarray  # intp engaged-contact code or -1 (anonymous)
    pair_account: np.ndarray  # per pair
    pair_role: np.ndarray  # per pair, in [0, R)
    pair_seniority: np.ndarray  # per pair, or -1
    pair_department: np.ndarray  # per pair, or -1


def _prepare(
    touchpoints: pd.DataFrame,
    contacts: pd.DataFrame,
    accounts: pd.DataFrame,
    queries: np.ndarray,
    config: SignalConfig,
    vocab_args: dict[str, Iterable[str] | None],
) -> tuple[_Coded, _Vocab, int]:
    _require_columns(accounts, "accounts", ["account_id"])
    _require_columns(
        touchpoints,
        "touchpoints",
        ["account_id", "contact_id", "timestamp", "channel", "signal"],
    )
    _require_columns(
        contacts, "contacts", ["contact_id", "buying_role", "seniority", "department"]
    )
    account_ids = pd.Index(accounts["account_id"])
    if len(account_ids) == 0:
        raise DataValidationError(
            "accounts is empty: signal features need at least one account"
        )
    if account_ids.hasnans or not account_ids.is_unique:
        dup = account_ids[account_ids.duplicated() | account_ids.isna()]
        raise DataValidationError(
            f"accounts.account_id must be unique and non-null; found "
            f"{len(dup)} duplicate or null id(s) (e.g. {_examples(dup)}): validate "
            f"the table with features.validation first"
        )
    contact_ids = pd.Index(contacts["contact_id"])
    if contact_ids.hasnans or not contact_ids.is_unique:
        dup = contact_ids[contact_ids.duplicated() | contact_ids.isna()]
        raise DataValidationError(
            f"contacts.contact_id must be unique and non-null; found {len(dup)} "
            f"duplicate or null id(s) (e.g. {_examples(dup)}): validate the table "
            f"with features.validation first"
        )
    for col in ("signal", "channel", "account_id"):
        if touchpoints[col].isna().any():
            raise DataValidationError(
                f"touchpoints.{col} has {int(touchpoints[col].isna().sum())} null "
                f"value(s); the contract requires one on every touch: validate the "
                f"table with features.validation first"
            )

    times = _times_ns(touchpoints["timestamp"])
    sig_codes, sig_uniques = pd.factorize(touchpoints["signal"])
    chan_codes, chan_uniques = pd.factorize(touchpoints["channel"])
    vocab = _make_vocab(sig_uniques, chan_uniques, contacts, **vocab_args)

    # Only touches that some window of some as-of date can see.
    keep = times <= queries.max()
    if config.lookback_days is not None:
        keep &= times > queries.min() - config.lookback_days * _NS_PER_DAY
    idx = np.flatnonzero(keep)
    if np.any(np.diff(times[idx]) < 0):  # exports often arrive sorted already
        idx = idx[np.argsort(times[idx])]
    times = times[idx]

    def recode(codes: np.ndarray, uniques: pd.Index, values: tuple[str, ...]) -> np.ndarray:
        mapping = pd.Index(values, dtype=object).get_indexer(
            pd.Index(uniques, dtype=object).astype(str)
        )
        mapping = np.append(mapping, -1)  # code -1 (null) maps to -1
        return mapping[codes[idx]].astype(np.intp)

    signal = recode(sig_codes, sig_uniques, vocab.signals)
    channel = recode(chan_codes, chan_uniques, vocab.channels)
    # integer codes of the whole columns first, then one gather of the codes
    account = _encode(touchpoints["account_id"], account_ids)
    if (account < 0).any():
        bad = touchpoints["account_id"][account < 0]
        raise DataValidationError(
            f"touchpoints has {len(bad)} touch(es) whose account_id is not in "
            f"accounts (e.g. {_examples(bad)}): validate the tables with "
            f"features.validation first (it quarantines such rows)"
        )
    contact = _encode(touchpoints["contact_id"], contact_ids)
    orphan = (contact < 0) & touchpoints["contact_id"].notna().to_numpy()
    if orphan.any():
        bad = touchpoints["contact_id"][orphan]
        raise DataValidationError(
            f"touchpoints has {int(orphan.sum())} touch(es) whose contact_id is "
            f"not in contacts (e.g. {_examples(bad)}): validate the tables with "
            f"features.validation first (it quarantines such rows)"
        )
    account, contact = account[idx], contact[idx]

    roles = _encode(contacts["buying_role"], pd.Index(BUYING_ROLES, dtype=object))
    if (roles < 0).any():
        bad = contacts["buying_role"][roles < 0]
        raise DataValidationError(
            f"contacts.buying_role has {int((roles < 0).sum())} value(s) outside "
            f"{', '.join(BUYING_ROLES)} (e.g. {_examples(bad)}): validate the table "
            f"with features.validation first"
        )
    seniority = _encode(
        _clean_labels(contacts["seniority"]), pd.Index(vocab.seniorities, dtype=object)
    )
    department = _encode(
        _clean_labels(contacts["department"]), pd.Index(vocab.departments, dtype=object)
    )

    # An engaged contact is an (account, contact) pair seen in the touches.
    named = contact >= 0
    pair = np.full(len(idx), -1, dtype=np.intp)
    key = account[named].astype(np.int64) * max(len(contact_ids), 1) + contact[named]
    pair_codes, pair_keys = pd.factorize(key)
    pair[named] = pair_codes
    pair_keys = np.asarray(pair_keys, dtype=np.int64)
    pair_contact = pair_keys % max(len(contact_ids), 1)
    coded = _Coded(
        times=times,
        account=account,
        signal=signal,
        channel=channel,
        pair=pair,
        pair_account=(pair_keys // max(len(contact_ids), 1)).astype(np.intp),
        pair_role=roles[pair_contact],
        pair_seniority=seniority[pair_contact],
        pair_department=department[pair_contact],
    )
    return coded, vocab, len(account_ids)


# --------------------------------------------------------------------------
# the computation


def _compute(
    coded: _Coded,
    vocab: _Vocab,
    n_accounts: int,
    queries: np.ndarray,
    config: SignalConfig,
) -> dict[str, np.ndarray]:
    """Feature columns for sorted unique ``queries``, date-major rows."""
    A, K = n_accounts, len(queries)
    S, C, R = len(vocab.signals), len(vocab.channels), len(vocab.roles)
    n_sen, n_dep = len(vocab.seniorities), len(vocab.departments)
    h = config.half_life_days * _NS_PER_DAY
    lookback = None if config.lookback_days is None else config.lookback_days * _NS_PER_DAY
    names = _feature_names(vocab, config)
    out: dict[str, np.ndarray] = {
        n: np.zeros(K * A, dtype=np.int64 if n.startswith(_INT_PREFIXES) else np.float64)
        for n in names
    }
    t, acc = coded.times, coded.account

    def rows(k: int) -> slice:
        return slice(k * A, (k + 1) * A)

    def spread(
        prefix_n: str, prefix_d: str, labels: list[str], N: np.ndarray, D: np.ndarray, k: int
    ) -> None:
        N2, D2 = N.reshape(A, len(labels)), D.reshape(A, len(labels))
        for j, lab in enumerate(labels):
            out[f"{prefix_n}{lab}"][rows(k)] = N2[:, j]
            out[f"{prefix_d}{lab}"][rows(k)] = D2[:, j]

    # totals
    for k, (N, D) in enumerate(rolling_window_sums(t, acc, A, queries, lookback, h)):
        out["n_touches"][rows(k)] = N
        out["decayed_touches"][rows(k)] = D
    # per signal / per channel
    for codes, width, kind, labels in (
        (coded.signal, S, "signal", _slugs("signal", vocab.signals)),
        (coded.channel, C, "channel", _slugs("channel", vocab.channels)),
    ):
        m = codes >= 0
        g = acc[m] * width + codes[m]
        for k, (N, D) in enumerate(
            rolling_window_sums(t[m], g, A * width, queries, lookback, h)
        ):
            spread(f"n_{kind}__", f"decayed_{kind}__", labels, N, D, k)

    # roles: decayed engagement, coverage; anonymous = all - named
    named = coded.pair >= 0
    role_of_touch = coded.pair_role[coded.pair[named]]
    g = acc[named] * R + role_of_touch
    importance = np.array([config.role_importance.get(r, 0.0) for r in vocab.roles])
    importance = importance / importance.sum()
    role_labels = _slugs("buying_role", vocab.roles)
    for k, (N, D) in enumerate(
        rolling_window_sums(t[named], g, A * R, queries, lookback, h)
    ):
        E = D.reshape(A, R)
        for j, lab in enumerate(role_labels):
            out[f"decayed_role__{lab}"][rows(k)] = E[:, j]
        out["role_coverage_weighted"][rows(k)] = (
            -np.expm1(-E / config.coverage_saturation) @ importance
        )
        out["n_anonymous_touches"][rows(k)] = (
            out["n_touches"][rows(k)] - N.reshape(A, R).sum(axis=1)
        )

    # engaged contacts, roles covered, seniority and department mix
    P = len(coded.pair_account)
    p_acc = coded.pair_account
    p_role_key = p_acc * R + coded.pair_role
    known_role = np.array([r != _UNKNOWN for r in vocab.roles])
    sen_ok, dep_ok = coded.pair_seniority >= 0, coded.pair_department >= 0
    sen_key = p_acc[sen_ok] * n_sen + coded.pair_seniority[sen_ok]
    dep_key = p_acc[dep_ok] * n_dep + coded.pair_department[dep_ok]
    sen_labels = _slugs("seniority", vocab.seniorities)
    dep_labels = _slugs("department", vocab.departments)
    for k, (N, _) in enumerate(
        rolling_window_sums(t[named], coded.pair[named], P, queries, lookback, None)
    ):
        engaged = (N > 0).astype(np.float64)
        n_engaged = np.bincount(p_acc, weights=engaged, minlength=A)
        out["engaged_contacts"][rows(k)] = n_engaged
        covered = np.bincount(p_role_key, weights=engaged, minlength=A * R).reshape(A, R)
        out["roles_covered"][rows(k)] = (covered[:, known_role] > 0).sum(axis=1)
        denom = np.where(n_engaged > 0, n_engaged, 1.0)[:, None]
        for key, ok, width, prefix, labels in (
            (sen_key, sen_ok, n_sen, "seniority_share__", sen_labels),
            (dep_key, dep_ok, n_dep, "department_share__", dep_labels),
        ):
            share = (
                np.bincount(key, weights=engaged[ok], minlength=A * width).reshape(
                    A, width
                )
                / denom
            )
            for j, lab in enumerate(labels):
                out[f"{prefix}{lab}"][rows(k)] = share[:, j]

    # momentum: last w days against the w days before them
    for w in config.momentum_windows:
        w_ns = w * _NS_PER_DAY
        recent = rolling_window_sums(t, acc, A, queries, w_ns, h)
        previous = rolling_window_sums(t, acc, A, queries - w_ns, w_ns, h)
        for k, ((n1, d1), (n0, d0)) in enumerate(zip(recent, previous)):
            out[f"momentum_{w}d"][rows(k)] = (n1 - n0) / (n0 + 1.0)
            out[f"momentum_decayed_{w}d"][rows(k)] = (d1 - d0) / (d0 + 1.0)
    return out


# --------------------------------------------------------------------------
# public API


def signal_feature_names(
    touchpoints: pd.DataFrame,
    contacts: pd.DataFrame,
    config: SignalConfig | None = None,
    *,
    signals: Iterable[str] | None = None,
    channels: Iterable[str] | None = None,
    seniorities: Iterable[str] | None = None,
    departments: Iterable[str] | None = None,
) -> list[str]:
    """Feature column names (without ``account_id`` and ``as_of``), in order.

    Same arguments as :func:`build_signal_panel`; the names depend only on the
    vocabularies and the momentum windows, never on an as-of date.
    """
    config = SignalConfig() if config is None else config
    _require_columns(touchpoints, "touchpoints", ["channel", "signal"])
    _require_columns(contacts, "contacts", ["seniority", "department"])
    vocab = _make_vocab(
        pd.Index(pd.unique(touchpoints["signal"].dropna())),
        pd.Index(pd.unique(touchpoints["channel"].dropna())),
        contacts,
        signals,
        channels,
        seniorities,
        departments,
    )
    return _feature_names(vocab, config)


def build_signal_panel(
    touchpoints: pd.DataFrame,
    contacts: pd.DataFrame,
    accounts: pd.DataFrame,
    as_of_dates: Sequence[Any] | pd.DatetimeIndex,
    config: SignalConfig | None = None,
    *,
    signals: Iterable[str] | None = None,
    channels: Iterable[str] | None = None,
    seniorities: Iterable[str] | None = None,
    departments: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Account signal features for every account and every as-of date.

    Parameters
    ----------
    touchpoints, contacts, accounts : DataFrame
        Clean tables of :mod:`features.contracts` (``touchpoints.timestamp``
        tz-aware; ids present in their parent tables). Only the columns named
        in the module docstring are read.
    as_of_dates : sequence of date-like
        As-of dates in any order (duplicates allowed); tz-naive dates are UTC.
    config : SignalConfig, optional
        Defaults to ``SignalConfig()``.
    signals, channels, seniorities, departments : iterable of str, optional
        Pin a vocabulary (hence the columns) instead of deriving it from the
        tables; see the module docstring.

    Returns
    -------
    DataFrame, shape (len(as_of_dates) * n_accounts, 2 + n_features)
        Rows date-major in the order of ``as_of_dates``, accounts in the order
        of ``accounts``; columns ``account_id``, ``as_of`` then the features
        (:func:`signal_feature_names`). Equal to stacking
        :func:`build_signal_features` of each date (counts exactly, decayed
        sums to floating-point rounding).

    Raises
    ------
    SchemaError
        A table lacks a needed column, or ``timestamp`` is not tz-aware.
    DataValidationError
        Duplicate or dangling ids, null required values, empty ``accounts``.
    ConfigError
        ``as_of_dates`` is empty or holds something that is not a date.
    """
    config = SignalConfig() if config is None else config
    if not isinstance(config, SignalConfig):
        raise ConfigError(
            f"config must be a SignalConfig, got {type(config).__name__}"
        )
    if isinstance(as_of_dates, (str, pd.Timestamp)) or not hasattr(
        as_of_dates, "__len__"
    ):
        raise ConfigError(
            f"as_of_dates must be a sequence of dates, got {as_of_dates!r}; use "
            f"build_signal_features for a single date"
        )
    requested = np.array([_as_of_ns(d) for d in as_of_dates], dtype=np.int64)
    if requested.size == 0:
        raise ConfigError("as_of_dates is empty: give at least one as-of date")
    queries, position = np.unique(requested, return_inverse=True)

    coded, vocab, n_accounts = _prepare(
        touchpoints,
        contacts,
        accounts,
        queries,
        config,
        dict(
            signals=signals,
            channels=channels,
            seniorities=seniorities,
            departments=departments,
        ),
    )
    logger.debug(
        "signal panel: %d accounts x %d dates over %d touches in range",
        n_accounts,
        len(queries),
        len(coded.times),
    )
    columns = _compute(coded, vocab, n_accounts, queries, config)

    A = n_accounts
    account_index = np.tile(np.arange(A), len(requested))
    if len(requested) == len(queries) and np.array_equal(requested, queries):
        take = None
    else:
        take = (position.reshape(-1, 1) * A + np.arange(A)).ravel()
        columns = {n: c[take] for n, c in columns.items()}
    account_id = accounts["account_id"].iloc[account_index].reset_index(drop=True)
    as_of = pd.DatetimeIndex(
        np.repeat(requested, A).view("datetime64[ns]"), tz="UTC"
    )
    frame = {"account_id": account_id, "as_of": pd.Series(as_of)}
    frame.update({n: pd.Series(c, copy=False) for n, c in columns.items()})
    return pd.DataFrame(frame, copy=False)


def build_signal_features(
    touchpoints: pd.DataFrame,
    contacts: pd.DataFrame,
    accounts: pd.DataFrame,
    as_of: Any,
    config: SignalConfig | None = None,
    *,
    signals: Iterable[str] | None = None,
    channels: Iterable[str] | None = None,
    seniorities: Iterable[str] | None = None,
    departments: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Account signal features as of one date.

    Parameters
    ----------
    touchpoints, contacts, accounts : DataFrame
        Clean tables of :mod:`features.contracts`.
    as_of : date-like
        ``str``, :class:`pandas.Timestamp`, ``datetime`` or ``numpy.datetime64``;
        tz-naive means UTC. Touches with ``timestamp <= as_of`` are used, later
        ones never.
    config : SignalConfig, optional
        Defaults to ``SignalConfig()``.
    signals, channels, seniorities, departments : iterable of str, optional
        Pin a vocabulary; see the module docstring.

    Returns
    -------
    DataFrame, shape (n_accounts, 2 + n_features)
        One row per account of ``accounts``, in its order, with columns
        ``account_id``, ``as_of`` then the features (module docstring).

    Raises
    ------
    SchemaError, DataValidationError, ConfigError
        As :func:`build_signal_panel`.
    """
    if isinstance(as_of, (list, tuple, np.ndarray, pd.Index, pd.Series)):
        raise ConfigError(
            "as_of must be a single date; use build_signal_panel for several"
        )
    return build_signal_panel(
        touchpoints,
        contacts,
        accounts,
        [as_of],
        config,
        signals=signals,
        channels=channels,
        seniorities=seniorities,
        departments=departments,
    )
