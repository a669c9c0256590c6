"""Engagement scoring: learned signal weights, decay and a calibrated 0-100 score.

Replaces hand-set engagement points ("a webinar is worth 10, a download 5")
with weights learned from which signals preceded pipeline.

* :func:`build_training_frame` - accounts x as-of dates: recency-decayed,
  role x seniority weighted signal exposures and the label "opens an
  opportunity (or wins one) within H days", at-risk rows only.
* :class:`EngagementWeightModel` - penalised logistic regression on
  ``log(1 + exposure)`` with the half-life tuned on a validation time slice and
  learned role / seniority multipliers; its coefficients are the points table
  ``weights_``; calibrated score with 30/60/90-day momentum.
* :class:`XGBEngagementModel` - monotone gradient-boosted challenger with a
  mean |SHAP| table.
* :class:`HandSetBaseline` (``configs/baseline_engagement_weights.yaml``) and
  :class:`OracleModel` (the generator's planted weights) - references scored
  with the same pipeline.
* :func:`backtest`, :func:`calibration_table` - vendor-style model-insight
  metrics (AUC, PR-AUC, log-loss, top-decile lift, calibration by decile) on
  later as-of dates.

Models import only :mod:`features` and never MLflow (DESIGN.md).
"""

from __future__ import annotations

from ._backtest import backtest, calibration_table
from ._model import EngagementWeightModel, build_training_frame
from ._reference import HandSetBaseline, OracleModel
from ._xgb import XGBEngagementModel

__all__ = [
    "EngagementWeightModel",
    "HandSetBaseline",
    "OracleModel",
    "XGBEngagementModel",
    "backtest",
    "build_training_frame",
    "calibration_table",
]
