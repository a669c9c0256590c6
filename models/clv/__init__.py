"""Customer lifetime value: probabilistic models that reproduce published tables.

Non-contractual (customers can leave unseen; purchases at any time):

* :func:`summary_from_transactions` - transaction log to the RFM summary
  (frequency, recency, T, monetary_value), the lifetimes convention;
* :class:`BetaGeoModel` - BG/NBD (Fader, Hardie & Lee 2005);
* :class:`ParetoNBDModel` - Pareto/NBD (Schmittlein, Morrison & Colombo 1987;
  Fader, Hardie & Lee 2005 implementation note);
* :class:`GammaGammaModel` - spend per transaction (Fader & Hardie 2013) and
  discounted CLV combining it with a transaction model.

Contractual (renewals at fixed periods, churn observed):

* :class:`ShiftedBetaGeometricModel` - sBG retention (Fader & Hardie 2007)
  with DERL-based residual value (Fader & Hardie 2010);
* :func:`survival_from_contracts` and :func:`fit_survival_by_segment` - from
  the ``contracts`` table to per-cohort survival counts and fitted models.

Every model is a scikit-learn style estimator: keyword-only hyperparameters,
``fit`` returns ``self``, learned state ends in ``_`` (``params_``,
``log_likelihood_``, ``standard_errors_``), and using an unfitted model raises
:class:`sklearn.exceptions.NotFittedError`.
"""

from __future__ import annotations

from ._abm_clv import abm_clv_effects, abm_propensity_weights
from ._beta_geo import BetaGeoModel
from ._gamma_gamma import PERIODS_PER_MONTH, GammaGammaModel
from ._ml_clv import (
    CLVHoldout,
    MLCLVModel,
    build_clv_features,
    clv_comparison,
    clv_holdout_predictions,
    clv_metrics,
    holdout_revenue,
)
from ._pareto_nbd import ParetoNBDModel
from ._shifted_beta_geo import (
    ShiftedBetaGeometricModel,
    fit_survival_by_segment,
    survival_from_contracts,
)
from ._summary import summary_from_transactions

__all__ = [
    "BetaGeoModel",
    "CLVHoldout",
    "MLCLVModel",
    "GammaGammaModel",
    "PERIODS_PER_MONTH",
    "ParetoNBDModel",
    "ShiftedBetaGeometricModel",
    "abm_clv_effects",
    "abm_propensity_weights",
    "build_clv_features",
    "clv_comparison",
    "clv_holdout_predictions",
    "clv_metrics",
    "fit_survival_by_segment",
    "holdout_revenue",
    "summary_from_transactions",
    "survival_from_contracts",
]
