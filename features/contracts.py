"""Input table contracts, declared once.

Each table of DESIGN.md is a :class:`TableContract`: the pandera schema that
checks its values, plus what pandera does not model (how each raw column is
parsed, the primary key, the foreign keys, the cross-column rules). The loader
(:mod:`features.loading`) and the validator (:mod:`features.validation`) read
everything from here; nothing else in the code base repeats a column list.

Column kinds (how a raw CSV cell is parsed before checking):

``id``        non-empty string, whitespace stripped
``str``       string, may be empty when the column is nullable
``datetime``  ISO 8601 date or timestamp, converted to UTC
``float``     decimal number (no thousands separators)
``bool``      true/false, 1/0, yes/no (case-insensitive)

Extra columns are allowed and carried along untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
import pandera.pandas as pa

__all__ = [
    "ABM_TIERS",
    "BUYING_ROLES",
    "COST_TYPES",
    "OPPORTUNITY_STAGES",
    "SENIORITIES",
    "ColumnKind",
    "ForeignKey",
    "RowRule",
    "TableContract",
    "CONTRACTS",
    "TABLE_ORDER",
    "contract",
]

ABM_TIERS: tuple[str, ...] = ("one_to_one", "one_to_few", "one_to_many", "none")
BUYING_ROLES: tuple[str, ...] = (
    "economic_buyer",
    "decision_maker",
    "champion",
    "influencer",
    "technical_evaluator",
    "user",
    "procurement",
    "unknown",
)
SENIORITIES: tuple[str, ...] = (
    "c_level",
    "vp",
    "director",
    "manager",
    "individual_contributor",
    "unknown",
)
COST_TYPES: tuple[str, ...] = ("technology", "personnel", "programs", "content")
OPPORTUNITY_STAGES: tuple[str, ...] = (
    "qualification",
    "discovery",
    "solution",
    "proposal",
    "negotiation",
    "closed_won",
    "closed_lost",
)

ColumnKind = Literal["id", "str", "datetime", "float", "bool"]

UTC_NS = pd.DatetimeTZDtype("ns", "UTC")


@dataclass(frozen=True)
class ForeignKey:
    """``column`` must name a row of ``table.ref_column`` (nulls allowed if nullable)."""

    column: str
    table: str
    ref_column: str


@dataclass(frozen=True)
class RowRule:
    """A cross-column rule: rows where ``later < earlier`` are quarantined."""

    earlier: str
    later: str
    reason: str


@dataclass(frozen=True)
class TableContract:
    """Everything the workbench requires of one input table."""

    name: str
    schema: pa.DataFrameSchema
    kinds: dict[str, ColumnKind]
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    row_rules: tuple[RowRule, ...] = ()
    no_future: tuple[str, ...] = field(default=())

    @property
    def required_columns(self) -> list[str]:
        return list(self.kinds)

    def nullable(self, column: str) -> bool:
        return bool(self.schema.columns[column].nullable)


#: a declared column: its parse kind and its pandera column
_Column = tuple[ColumnKind, pa.Column]


def _id(nullable: bool = False) -> _Column:
    return "id", pa.Column(str, nullable=nullable)


def _str(*checks: pa.Check, nullable: bool = True) -> _Column:
    return "str", pa.Column(str, list(checks), nullable=nullable)


def _label() -> _Column:
    """A required free-text label (channel, signal, stage)."""
    return "str", pa.Column(str, nullable=False)


def _one_of(values: tuple[str, ...], nullable: bool = False) -> _Column:
    return "str", pa.Column(
        str,
        pa.Check.isin(values, error=f"must be one of {', '.join(values)}"),
        nullable=nullable,
    )


def _when(nullable: bool = False) -> _Column:
    return "datetime", pa.Column(UTC_NS, nullable=nullable)


def _amount(nullable: bool = False) -> _Column:
    return "float", pa.Column(
        float, pa.Check.ge(0, error="must not be negative"), nullable=nullable
    )


def _flag() -> _Column:
    return "bool", pa.Column(bool, nullable=False)


def _table(name: str, columns: dict[str, _Column], **keys: Any) -> TableContract:
    """A contract whose schema and parse kinds come from one column list."""
    return TableContract(
        name=name,
        schema=pa.DataFrameSchema({c: col for c, (_, col) in columns.items()}, name=name),
        kinds={c: kind for c, (kind, _) in columns.items()},
        **keys,
    )


ACCOUNTS = _table(
    "accounts",
    {
        "account_id": _id(),
        "segment": _str(),
        "industry": _str(),
        "region": _str(),
        "business_unit": _str(),
        "abm_tier": _one_of(ABM_TIERS),
        "annual_revenue": _amount(nullable=True),
    },
    primary_key=("account_id",),
)

CONTACTS = _table(
    "contacts",
    {
        "contact_id": _id(),
        "account_id": _id(),
        "buying_role": _one_of(BUYING_ROLES),
        "seniority": _str(),
        "department": _str(),
    },
    primary_key=("contact_id",),
    foreign_keys=(ForeignKey("account_id", "accounts", "account_id"),),
)

TOUCHPOINTS = _table(
    "touchpoints",
    {
        "touchpoint_id": _id(),
        "account_id": _id(),
        "contact_id": _id(nullable=True),
        "timestamp": _when(),
        "channel": _label(),
        "signal": _label(),
        "campaign_id": _str(),
        "asset_id": _str(),
        "cost": _amount(nullable=True),
    },
    primary_key=("touchpoint_id",),
    foreign_keys=(
        ForeignKey("account_id", "accounts", "account_id"),
        ForeignKey("contact_id", "contacts", "contact_id"),
    ),
    no_future=("timestamp",),
)

OPPORTUNITIES = _table(
    "opportunities",
    {
        "opportunity_id": _id(),
        "account_id": _id(),
        "created_at": _when(),
        "closed_at": _when(nullable=True),
        "stage": _label(),
        "is_won": _flag(),
        "amount": _amount(nullable=True),
    },
    primary_key=("opportunity_id",),
    foreign_keys=(ForeignKey("account_id", "accounts", "account_id"),),
    row_rules=(
        RowRule("created_at", "closed_at", "closed_at is before created_at"),
    ),
    no_future=("created_at", "closed_at"),
)

OPPORTUNITY_STAGES_TABLE = _table(
    "opportunity_stages",
    {
        "opportunity_id": _id(),
        "stage": _label(),
        "entered_at": _when(),
    },
    primary_key=("opportunity_id", "stage"),
    foreign_keys=(
        ForeignKey("opportunity_id", "opportunities", "opportunity_id"),
    ),
    no_future=("entered_at",),
)

CONTRACTS_TABLE = _table(
    "contracts",
    {
        "contract_id": _id(),
        "account_id": _id(),
        "start_date": _when(),
        "end_date": _when(nullable=True),
        "annual_value": _amount(),
    },
    primary_key=("contract_id",),
    foreign_keys=(ForeignKey("account_id", "accounts", "account_id"),),
    row_rules=(RowRule("start_date", "end_date", "end_date is before start_date"),),
    no_future=("start_date",),
)

SPEND = _table(
    "spend",
    {
        "program_id": _id(),
        "abm_tier": _one_of(ABM_TIERS),
        "channel": _label(),
        "cost_type": _one_of(COST_TYPES),
        "period_start": _when(),
        "period_end": _when(),
        "amount": _amount(),
    },
    primary_key=("program_id", "abm_tier", "channel", "cost_type", "period_start"),
    row_rules=(
        RowRule("period_start", "period_end", "period_end is before period_start"),
    ),
)

#: Tables in dependency order: a table's foreign keys point only to earlier ones.
CONTRACTS: dict[str, TableContract] = {
    c.name: c
    for c in (
        ACCOUNTS,
        CONTACTS,
        TOUCHPOINTS,
        OPPORTUNITIES,
        OPPORTUNITY_STAGES_TABLE,
        CONTRACTS_TABLE,
        SPEND,
    )
}
TABLE_ORDER: tuple[str, ...] = tuple(CONTRACTS)

#: Tables every run needs; the others are optional (CLV and ROI use them).
REQUIRED_TABLES: tuple[str, ...] = ("accounts", "touchpoints", "opportunities")


def contract(table: str) -> TableContract:
    """Return the contract of ``table``, refusing unknown names with the list."""
    from features.errors import SchemaError

    try:
        return CONTRACTS[table]
    except KeyError:
        raise SchemaError(
            f"unknown table {table!r}: expected one of {', '.join(TABLE_ORDER)}"
        ) from None
