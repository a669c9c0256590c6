"""Predictive models over the feature tables.

Subpackages:

* :mod:`models.clv` - customer lifetime value (sBG, BG/NBD, Pareto/NBD,
  Gamma-Gamma).

Models import only :mod:`features` (for contracts and the error family) and
never import MLflow (DESIGN.md).
"""
