"""The workbench's one exception family.

Every error a user can cause (bad input file, missing column, wrong config key,
unknown model name...) is a :class:`WorkbenchError`. Each subclass also inherits
the matching built-in, so ``except ValueError`` keeps working for callers that
do not know the family. The CLI turns any ``WorkbenchError`` into one readable
line and exit code 2; anything else is a bug and may show its traceback.

The family lives in ``features`` because it is the lowest room of the house
(DESIGN.md): every other package may import it.
"""

from __future__ import annotations

__all__ = [
    "WorkbenchError",
    "InputFileError",
    "SchemaError",
    "DataValidationError",
    "ConfigError",
]


class WorkbenchError(Exception):
    """Base class of every error a user can cause and fix."""


class InputFileError(WorkbenchError, OSError):
    """An input file is missing, unreadable, empty or not CSV/Parquet."""


class SchemaError(WorkbenchError, ValueError):
    """A table does not have the columns or types its contract requires."""


class DataValidationError(WorkbenchError, ValueError):
    """Values break a rule that cannot be fixed by quarantining rows."""


class ConfigError(WorkbenchError, ValueError):
    """A configuration or mapping file is malformed or names an unknown key."""
