import pytest

from features.contracts import CONTRACTS, TABLE_ORDER, contract
from features.errors import SchemaError


def test_every_table_has_a_contract_in_dependency_order():
    assert set(CONTRACTS) == set(TABLE_ORDER)
    seen: set[str] = set()
    for name in TABLE_ORDER:
        for fk in CONTRACTS[name].foreign_keys:
            assert fk.table in seen or fk.table == name
        seen.add(name)


def test_kinds_and_schema_name_the_same_columns():
    for c in CONTRACTS.values():
        assert list(c.kinds) == list(c.schema.columns)


def test_unknown_table_is_refused_with_the_list():
    with pytest.raises(SchemaError, match="unknown table 'leads'.*accounts"):
        contract("leads")
