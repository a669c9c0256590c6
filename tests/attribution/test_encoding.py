"""Integer coding of path tables: splitting, duplicates, fallbacks, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attribution import encode_paths
from attribution._encoding import _tokenize_regex, sequence_ids
from features.errors import DataValidationError, SchemaError


def table(paths, conv=None, null=None, value=None):
    n = len(paths)
    return pd.DataFrame(
        {
            "path": paths,
            "total_conversions": conv if conv is not None else [1.0] * n,
            "total_null": null if null is not None else [0.0] * n,
            "total_conversion_value": value if value is not None else [1.0] * n,
        }
    )


def decoded(enc):
    return [tuple(enc.path(i)) for i in range(enc.n_paths)]


def test_codes_follow_sorted_names_and_whitespace_is_ignored():
    enc = encode_paths(table(["b > a", " c>b ", "a"]))
    assert enc.channels == ("a", "b", "c")
    assert decoded(enc) == [("b", "a"), ("c", "b"), ("a",)]
    np.testing.assert_array_equal(enc.offsets, [0, 2, 4, 5])
    assert enc.codes.dtype == np.int32


def test_duplicated_paths_are_summed_in_first_appearance_order():
    enc = encode_paths(
        table(["a > b", "c", "a>b", " a > b ", "c"], conv=[1, 2, 3, 4, 5], null=[1, 0, 1, 0, 1], value=[10.0, 20, 30, 40, 50])
    )
    assert decoded(enc) == [("a", "b"), ("c",)]
    np.testing.assert_allclose(enc.conversions, [8, 7])
    np.testing.assert_allclose(enc.nulls, [2, 1])
    np.testing.assert_allclose(enc.values, [80, 70])


def test_channel_names_keep_inner_spaces_and_unicode():
    enc = encode_paths(table(["paid search > café event", "café event"]))
    assert enc.channels == ("café event", "paid search")


@pytest.mark.parametrize("dtype", [object, "str"])
def test_object_and_arrow_string_columns_agree(dtype):
    paths = ["x > y > x", "y", "z > x"]
    enc = encode_paths(table(pd.Series(paths, dtype=dtype)))
    assert decoded(enc) == [("x", "y", "x"), ("y",), ("z", "x")]


def test_non_string_paths_are_read_as_text():
    enc = encode_paths(table([1, 2, 1]))
    assert enc.channels == ("1", "2")
    np.testing.assert_allclose(enc.conversions, [2, 1])


def test_multi_character_separator_uses_the_regex_path():
    enc = encode_paths(table(["a -> b", "b->c"]), sep="->")
    assert decoded(enc) == [("a", "b"), ("b", "c")]


def test_marker_character_in_a_channel_name_falls_back_safely():
    tokens_codes, entries, first = _tokenize_regex(["a\x00b > c", "c"], ">")
    assert entries == ["a\x00b", "c"] and list(first) == [0, 2, 3]


def test_optional_columns_default_to_zero_nulls_and_value_equal_conversions():
    enc = encode_paths(table(["a", "b"], conv=[2.0, 3.0]).drop(columns=["total_null", "total_conversion_value"]),
                       null_col=None, value_col=None)
    np.testing.assert_allclose(enc.nulls, [0, 0])
    np.testing.assert_allclose(enc.values, [2, 3])


@pytest.mark.parametrize(
    ("paths", "row"),
    [(["a > ", "b"], 0), (["a", " > b"], 1), (["a >> b"], 0), (["a", ""], 1), (["a", "   "], 1)],
)
def test_empty_channel_names_are_refused_with_the_row(paths, row):
    with pytest.raises(DataValidationError, match=f"row {row}: path .* has an empty channel name"):
        encode_paths(table(paths))


def test_missing_path_and_non_frame_inputs():
    with pytest.raises(DataValidationError, match="column 'path' row 1 is empty"):
        encode_paths(table(["a", None]))
    with pytest.raises(SchemaError, match="expected a pandas DataFrame"):
        encode_paths([("a", 1)])


def test_text_in_a_count_column_is_refused():
    with pytest.raises(DataValidationError, match="'total_conversions' row 1: 'many' is not a finite number"):
        encode_paths(table(["a", "b"], conv=[1, "many"]))


@settings(max_examples=60, deadline=None)
@given(
    seqs=st.lists(st.lists(st.integers(0, 3), min_size=1, max_size=40), min_size=1, max_size=30),
    n_symbols=st.sampled_from([4, 300, 70000]),
)
def test_sequence_ids_are_exact(seqs, n_symbols):
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in seqs])]).astype(np.int64)
    codes = np.concatenate(seqs).astype(np.int32)
    ids = sequence_ids(offsets, codes, n_symbols)
    first_seen: dict = {}
    expected = [first_seen.setdefault(tuple(s), len(first_seen)) for s in seqs]
    np.testing.assert_array_equal(ids, expected)


@settings(max_examples=40, deadline=None)
@given(
    paths=st.lists(
        st.lists(st.sampled_from(["a", "bb", "c c", "d"]), min_size=1, max_size=6).map(" > ".join),
        min_size=1,
        max_size=12,
    )
)
def test_encode_round_trip(paths):
    enc = encode_paths(table(paths))
    frame = enc.to_frame()
    merged = table(paths).groupby("path", sort=False)["total_conversions"].sum()
    assert dict(zip(frame["path"], frame["total_conversions"])) == dict(merged)
