"""The estimator base every attribution model shares.

An attribution model turns a path table (DESIGN.md) into credit per channel.
Each model is split in three so that the bootstrap can refit it hundreds of
times without touching strings:

``_prepare(enc) -> prep``
    everything that depends only on the *paths* (touch positions, Markov
    states and edges...), computed once per fit;
``_credit(prep, conversions, nulls, values) -> (credit_conv, credit_value)``
    the model's array core, (K,) credits from per-path weights;
``_point_credit(prep, ...)``
    the point estimate's credits, by default ``_credit``; a model may
    override it to keep state that only the point fit needs (a fitted
    classifier and its diagnostics);
``_finish(prep)``
    optional extra fitted state (removal effects, transition matrix...),
    called right after the point estimate.

Fitted state (sklearn convention, names end in ``_``): ``channels_``,
``credit_conversions_``, ``credit_value_``, ``result_`` (the long result
frame of :mod:`attribution._result`) and, when ``ci`` is set,
``bootstrap_credits_`` (n_boot, K).
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from attribution._bootstrap import bootstrap_intervals, check_ci
from attribution._encoding import EncodedPaths, encode_paths
from attribution._result import make_result
from features.errors import ConfigError, DataValidationError, SchemaError

__all__ = ["AttributionModel", "check_positive"]

logger = logging.getLogger(__name__)


class AttributionModel(BaseEstimator):
    """Base class: ``fit(paths)`` -> credit per channel (see module docstring).

    Subclasses define ``__init__`` with keyword-only hyperparameters, always
    including ``ci``, ``n_boot`` and ``random_state``:

    ci : float or None, default None
        Coverage of bootstrap percentile intervals (e.g. 0.95); ``None``
        skips the bootstrap. See :mod:`attribution._bootstrap`.
    n_boot : int, default 200
        Number of multinomial bootstrap replicates when ``ci`` is set.
    random_state : int, Generator or None, default None
        Seed of every random step of the fit (bootstrap, Monte Carlo parts).
    """

    #: registry key, also the ``model`` column of the result
    name: ClassVar[str] = "attribution"
    #: whether credits are promised to be >= 0 (checked by the contract tests)
    nonnegative: ClassVar[bool] = True

    # ------------------------------------------------------------------ API
    def fit(
        self,
        paths: pd.DataFrame | EncodedPaths,
        *,
        path_col: str = "path",
        conv_col: str = "total_conversions",
        null_col: str | None = "total_null",
        value_col: str | None = "total_conversion_value",
        sep: str = ">",
    ) -> "AttributionModel":
        """Learn credit per channel from a path table.

        Parameters
        ----------
        paths : DataFrame (path table) or :class:`EncodedPaths`
            One row per path; duplicated paths are summed. See
            :func:`attribution.encode_paths` for validation rules.
        path_col, conv_col, null_col, value_col, sep
            Column names and channel separator of a DataFrame input.

        Returns
        -------
        self
        """
        self._check_params()
        check_ci(self.ci, self.n_boot, self.name)
        enc = self._encode(paths, path_col=path_col, conv_col=conv_col, null_col=null_col, value_col=value_col, sep=sep)
        prep = self._prepare(enc)
        self._fit_prepared(prep, enc.channels, enc.conversions, enc.nulls, enc.values)
        return self

    def _fit_prepared(
        self,
        prep: Any,
        channels: tuple[str, ...],
        conversions: np.ndarray,
        nulls: np.ndarray,
        values: np.ndarray,
    ) -> None:
        """Credits, optional bootstrap intervals and the result frame."""
        credit_conv, credit_value = self._point_credit(prep, conversions, nulls, values)
        self.channels_ = np.array(channels, dtype=object)
        self.n_channels_ = len(channels)
        self.credit_conversions_ = credit_conv
        self.credit_value_ = credit_value
        self._finish(prep)  # before the bootstrap reuses prep
        intervals = None
        if self.ci is None and hasattr(self, "bootstrap_credits_"):
            del self.bootstrap_credits_  # refit without ci: no stale replicates
        if self.ci is not None:
            intervals, replicates = bootstrap_intervals(
                partial(self._credit, prep),
                conversions,
                nulls,
                values,
                ci=float(self.ci),
                n_boot=int(self.n_boot),
                random_state=self.random_state,
                model=self.name,
            )
            self.bootstrap_credits_ = replicates
        self.result_ = make_result(self._label(), channels, credit_conv, credit_value, intervals)

    def attribute(
        self,
        paths: pd.DataFrame | EncodedPaths,
        *,
        by: str | list[str] | None = None,
        **columns: Any,
    ) -> pd.DataFrame:
        """Fit a clone and return its result frame; ``self`` is left untouched.

        Parameters
        ----------
        paths : path table or :class:`EncodedPaths`.
        by : breakdown column(s) of the path table (segment, region...). Each
            slice is fitted separately and its rows carry the slice's values
            in these columns (first in the frame). Slices without any
            conversion have nothing to credit: they are skipped, logged and
            listed in ``attrs["skipped_slices"]`` of the result (an error if
            every slice is empty).
        **columns : ``path_col``, ``conv_col``, ``null_col``, ``value_col``,
            ``sep`` as in :meth:`fit`.

        Returns
        -------
        DataFrame in the result contract (:mod:`attribution._result`).
        """
        if by is None:
            return clone(self).fit(paths, **columns).result_
        keys = [by] if isinstance(by, str) else list(by)
        if isinstance(paths, EncodedPaths) or not isinstance(paths, pd.DataFrame):
            raise SchemaError(f"{self.name}: by={keys!r} needs a path table DataFrame with those columns")
        missing = [k for k in keys if k not in paths.columns]
        if missing:
            raise SchemaError(
                f"{self.name}: breakdown column(s) {missing!r} not in the path table "
                f"(columns: {', '.join(map(str, paths.columns))})"
            )
        frames, skipped = [], []
        conv_col = columns.get("conv_col", "total_conversions")
        for values, part in paths.groupby(keys, sort=True, dropna=False, observed=True):
            values = values if isinstance(values, tuple) else (values,)
            if conv_col in part.columns and len(part):
                conv = pd.to_numeric(part[conv_col], errors="coerce")
                if conv.notna().all() and (conv >= 0).all() and conv.sum() == 0:
                    skipped.append(values)  # nothing to credit in this slice
                    continue
            result = clone(self).fit(part, **columns).result_
            for key, value in zip(reversed(keys), reversed(values)):
                result.insert(0, key, value)
            frames.append(result)
        if skipped:
            logger.info("%s: %d slice(s) of %s without conversions skipped: %s", self.name, len(skipped), keys, skipped)
        if not frames:
            raise DataValidationError(
                f"{self.name}: no slice of {keys!r} has a conversion; there is nothing to credit"
            )
        out = pd.concat(frames, ignore_index=True)
        out.attrs["skipped_slices"] = [dict(zip(keys, v)) for v in skipped]
        return out

    def shares(self) -> pd.Series:
        """Share of conversions per channel (fitted), indexed by channel."""
        check_is_fitted(self, "result_")
        return pd.Series(self.result_["share"].to_numpy(), index=pd.Index(self.channels_, name="channel"), name="share")

    # ------------------------------------------------------- for subclasses
    def _label(self) -> str:
        return self.name

    def _check_params(self) -> None:
        """Refuse bad hyperparameters (ConfigError); subclasses extend."""

    def _encode(self, paths: pd.DataFrame | EncodedPaths, **columns: Any) -> EncodedPaths:
        if isinstance(paths, EncodedPaths):
            return paths
        return encode_paths(paths, model=self.name, **columns)

    def _prepare(self, enc: EncodedPaths) -> Any:
        return enc

    def _credit(
        self, prep: Any, conversions: np.ndarray, nulls: np.ndarray, values: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _point_credit(
        self, prep: Any, conversions: np.ndarray, nulls: np.ndarray, values: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Credits of the point estimate (default: :meth:`_credit`).

        Models whose fit produces more state than credits (a classifier, its
        diagnostics) override this to keep that state; bootstrap replicates
        always go through :meth:`_credit`.
        """
        return self._credit(prep, conversions, nulls, values)

    def _finish(self, prep: Any) -> None:
        """Store extra fitted state (default: nothing)."""


def check_positive(model: str, **params: Any) -> None:
    """Raise ConfigError unless every named hyperparameter is a finite number > 0."""
    for key, value in params.items():
        if not (isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
                and np.isfinite(value) and value > 0):
            raise ConfigError(f"{model}: {key}={value!r} must be a finite number > 0")
