"""Column and value mappings: ingest a CRM or marketing-automation export as is.

Exports rarely use the contract's names. A mapping YAML says, per table, which
file to read, which source column feeds each contract column, how source values
translate (``Activity Type = "Webinar Attended"`` -> ``channel = webinar`` and
``signal = webinar_attend``), and constants for columns the export lacks::

    name: salesforce
    tables:
      touchpoints:
        file: Activity_Export.csv          # default: touchpoints.csv|.parquet
        columns:                           # contract column: source column
          touchpoint_id: Id
          account_id: AccountId
          timestamp: ActivityDate
        values:                            # derived through a value map
          channel:
            source: Activity Type
            map: {Webinar Attended: webinar, Email Opened: email}
            unmapped: quarantine           # or: keep
          signal:
            source: Activity Type
            map: {Webinar Attended: webinar_attend, Email Opened: email_open}
        constants:
          cost: "0"

The mapping is itself validated (pydantic, unknown keys refused), so a typo in
a key gives one clear line naming the file and the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from features.contracts import CONTRACTS, TABLE_ORDER
from features.errors import ConfigError

__all__ = ["ValueMap", "TableMapping", "Mapping", "load_mapping", "IDENTITY"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ValueMap(_Strict):
    """Derive a contract column from a source column through a lookup."""

    source: str
    map: dict[str, str] = Field(default_factory=dict)
    #: what to do with a source value missing from ``map``: send the row to
    #: quarantine (default), or keep the source value unchanged.
    unmapped: Literal["quarantine", "keep"] = "quarantine"
    #: compare source values case- and space-insensitively.
    ignore_case: bool = True


class TableMapping(_Strict):
    file: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    values: dict[str, ValueMap] = Field(default_factory=dict)
    constants: dict[str, str] = Field(default_factory=dict)


class Mapping(_Strict):
    name: str = "identity"
    description: str = ""
    tables: dict[str, TableMapping] = Field(default_factory=dict)

    def for_table(self, table: str) -> TableMapping:
        return self.tables.get(table, TableMapping())


IDENTITY = Mapping()


def _check_contract_names(mapping: Mapping, source: str) -> None:
    for table, tm in mapping.tables.items():
        if table not in CONTRACTS:
            raise ConfigError(
                f"{source}: unknown table {table!r} under 'tables' "
                f"(expected one of {', '.join(TABLE_ORDER)})"
            )
        known = CONTRACTS[table].kinds
        for section in ("columns", "values", "constants"):
            for column in getattr(tm, section):
                if column not in known:
                    raise ConfigError(
                        f"{source}: tables.{table}.{section}: {column!r} is not a "
                        f"column of {table} (expected one of {', '.join(known)})"
                    )


def load_mapping(path: str | Path) -> Mapping:
    """Read and validate a mapping YAML; every problem is a :class:`ConfigError`."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path.name}: mapping file not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path.name}: not valid YAML ({exc})".replace("\n", " ")) from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path.name}: a mapping file must be a YAML mapping with a 'tables' key")
    try:
        mapping = Mapping.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"{path.name}: {where}: {err['msg']}") from None
    _check_contract_names(mapping, path.name)
    return mapping
