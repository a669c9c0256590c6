"""The ``abm`` command line (placeholder until the CLI lands)."""
from __future__ import annotations


def main() -> None:  # pragma: no cover - replaced by the typer app
    raise SystemExit(0)
