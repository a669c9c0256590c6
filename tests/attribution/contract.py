"""The contract every attribution model passes (STYLE.md convention 7).

A model's test module subclasses :class:`AttributionContract` and supplies a
``model`` fixture returning an unfitted estimator; nothing else is needed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from features.errors import DataValidationError, WorkbenchError

CHANNELS = ("email", "events", "linkedin", "search", "webinar")


@st.composite
def path_tables(draw, channels=CHANNELS, max_rows=8, max_len=5):
    """Small random path tables with at least one conversion."""
    n = draw(st.integers(1, max_rows))
    rows = []
    for _ in range(n):
        length = draw(st.integers(1, max_len))
        path = draw(st.lists(st.sampled_from(channels), min_size=length, max_size=length))
        conv = draw(st.integers(0, 20))
        null = draw(st.integers(0, 20))
        value = conv * draw(st.sampled_from([1.0, 2.5, 10.0, 100.0]))
        rows.append((" > ".join(path), conv, null, value))
    table = pd.DataFrame(rows, columns=["path", "total_conversions", "total_null", "total_conversion_value"])
    if table["total_conversions"].sum() == 0:
        table.loc[0, ["total_conversions", "total_conversion_value"]] = [1, 1.0]
    return table


def small_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "path": ["email > search", "search", "linkedin > email > search", "events", "email > email"],
            "total_conversions": [4, 6, 2, 0, 3],
            "total_null": [10, 20, 5, 8, 6],
            "total_conversion_value": [400.0, 300.0, 250.0, 0.0, 90.0],
        }
    )


def credits(model, table) -> pd.DataFrame:
    return model.fit(table).result_.set_index("channel")


# differing_executors: each subclass runs the same test on its own model, on purpose.
HYPOTHESIS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.differing_executors],
)


class AttributionContract:
    """Shared tests; subclasses provide the ``model`` fixture (unfitted)."""

    rtol = 1e-9
    #: False for models whose random split follows row order (Markov order="auto")
    row_order_invariant = True

    # -- sums and signs -------------------------------------------------------
    def check_sums(self, model, table):
        result = credits(clone(model), table)
        assert np.isclose(result["credit_conversions"].sum(), table["total_conversions"].sum(), rtol=self.rtol)
        assert np.isclose(result["credit_value"].sum(), table["total_conversion_value"].sum(), rtol=self.rtol)
        assert np.isclose(result["share"].sum(), 1.0, rtol=self.rtol)
        if type(model).nonnegative:
            assert (result["credit_conversions"] >= -1e-9).all()
            assert (result["credit_value"] >= -1e-9).all()
        return result

    def test_sums_and_signs_small_table(self, model):
        self.check_sums(model, small_table())
        frame = clone(model).fit(small_table()).result_
        assert list(frame.columns) == ["model", "channel", "credit_conversions", "credit_value", "share"]

    @HYPOTHESIS
    @given(table=path_tables())
    def test_sums_and_signs_random_tables(self, model, table):
        self.check_sums(model, table)

    # -- invariances ----------------------------------------------------------
    @HYPOTHESIS
    @given(table=path_tables(), seed=st.integers(0, 2**16))
    def test_renaming_and_reordering_channels_changes_nothing(self, model, table, seed):
        rng = np.random.default_rng(seed)
        names = list(CHANNELS)
        new_names = [f"ch_{i}" for i in rng.permutation(len(names))]  # sorts differently
        mapping = dict(zip(names, new_names))
        renamed = table.copy()
        renamed["path"] = [" > ".join(mapping[c] for c in p.split(" > ")) for p in table["path"]]
        if self.row_order_invariant:
            renamed = renamed.iloc[rng.permutation(len(renamed))].reset_index(drop=True)
        before = credits(clone(model), table)
        after = credits(clone(model), renamed).rename(index={v: k for k, v in mapping.items()})
        after = after.loc[before.index]
        for column in ("credit_conversions", "credit_value", "share"):
            np.testing.assert_allclose(after[column], before[column], rtol=1e-7, atol=1e-9)

    def test_one_channel_world_gives_everything_to_it(self, model):
        table = pd.DataFrame(
            {
                "path": ["search", "search > search", "search > search > search"],
                "total_conversions": [3, 2, 1],
                "total_null": [5, 1, 0],
                "total_conversion_value": [30.0, 20.0, 5.0],
            }
        )
        result = credits(clone(model), table)
        assert list(result.index) == ["search"]
        assert result.loc["search", "share"] == pytest.approx(1.0)
        assert result.loc["search", "credit_conversions"] == pytest.approx(6.0)
        assert result.loc["search", "credit_value"] == pytest.approx(55.0)

    # -- estimator behaviour --------------------------------------------------
    def test_same_seed_same_numbers_with_bootstrap(self, model):
        a = clone(model).set_params(ci=0.9, n_boot=20, random_state=7).fit(small_table()).result_
        b = clone(model).set_params(ci=0.9, n_boot=20, random_state=7).fit(small_table()).result_
        pd.testing.assert_frame_equal(a, b)
        for low, high in (("ci_low", "ci_high"), ("share_ci_low", "share_ci_high"), ("value_ci_low", "value_ci_high")):
            assert (a[low] <= a[high] + 1e-12).all()
        assert ((a["share_ci_low"] >= -1e-12) | (not type(model).nonnegative)).all()

    def test_fitting_twice_is_idempotent(self, model):
        fitted = clone(model)
        first = fitted.fit(small_table()).result_.copy()
        second = fitted.fit(small_table()).result_
        pd.testing.assert_frame_equal(first, second)

    def test_fit_returns_self_and_learned_state(self, model):
        fitted = clone(model)
        assert fitted.fit(small_table()) is fitted
        assert list(fitted.channels_) == ["email", "events", "linkedin", "search"]
        assert fitted.credit_conversions_.shape == (4,)
        assert fitted.credit_value_.shape == (4,)

    def test_input_frame_is_not_mutated(self, model):
        table = small_table()
        copy = table.copy(deep=True)
        clone(model).fit(table)
        clone(model).attribute(table)
        pd.testing.assert_frame_equal(table, copy)

    def test_attribute_leaves_the_model_unfitted(self, model):
        unfitted = clone(model)
        result = unfitted.attribute(small_table())
        assert np.isclose(result["credit_conversions"].sum(), 15)
        with pytest.raises(NotFittedError):
            unfitted.shares()

    def test_not_fitted_error_before_fit(self, model):
        with pytest.raises(NotFittedError):
            clone(model).shares()

    def test_sliced_run_carries_breakdown_columns(self, model):
        table = pd.concat([small_table().assign(segment="smb"), small_table().assign(segment="ent")])
        result = clone(model).attribute(table, by="segment")
        assert list(result.columns[:2]) == ["segment", "model"]
        sums = result.groupby("segment")["credit_conversions"].sum()
        np.testing.assert_allclose(sums.to_numpy(), [15.0, 15.0])

    # -- bad input --------------------------------------------------------------
    @pytest.mark.parametrize(
        ("mutate", "message"),
        [
            (lambda t: t.iloc[0:0], "path table is empty"),
            (lambda t: t.assign(total_null=[-1, 0, 0, 0, 0]), "'total_null' row 0: -1.0 is negative"),
            (lambda t: t.assign(total_conversions=[np.nan, 1, 1, 1, 1]), "'total_conversions' row 0: .* is not a finite"),
            (lambda t: t.assign(path=["email > ", "search", "a", "b", "c"]), "row 0: path 'email > ' has an empty channel name"),
            (lambda t: t.assign(path=["email", "search >> b", "a", "b", "c"]), "row 1: .*empty channel name"),
            (lambda t: t.assign(total_conversions=0, total_conversion_value=0.0), "no conversions"),
        ],
    )
    def test_bad_input_is_refused_with_a_clear_message(self, model, mutate, message):
        with pytest.raises(DataValidationError, match=message):
            clone(model).fit(mutate(small_table()))

    def test_missing_column_is_a_schema_error(self, model):
        from features.errors import SchemaError

        with pytest.raises(SchemaError, match="no column 'total_null'"):
            clone(model).fit(small_table().drop(columns="total_null"))

    def test_bad_ci_is_a_config_error(self, model):
        with pytest.raises(WorkbenchError, match="ci=1.5 must be a coverage"):
            clone(model).set_params(ci=1.5).fit(small_table())
