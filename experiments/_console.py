"""Terminal output for the CLI: stage timings, progress, tables.

Library code logs; only the CLI writes to the terminal, through this module.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

import pandas as pd
from rich.console import Console
from rich.table import Table

__all__ = ["console", "err_console", "StageTimer", "print_frame"]

console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
err_console = Console(stderr=True, highlight=False)


@dataclass
class StageTimer:
    """Runs named stages with a spinner and records how long each took."""

    timings: list[tuple[str, float]] = field(default_factory=list)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        with console.status(f"[bold]{name}[/] ...", spinner="dots"):
            yield
        elapsed = time.perf_counter() - start
        self.timings.append((name, elapsed))
        console.print(f"[green]✓[/] {name} [dim]({elapsed:.2f} s)[/]")

    def table(self) -> Table:
        table = Table(title="Stage timings", show_edge=False)
        table.add_column("stage")
        table.add_column("seconds", justify="right")
        for name, secs in self.timings:
            table.add_row(name, f"{secs:.2f}")
        table.add_row("[bold]total[/]", f"[bold]{sum(s for _, s in self.timings):.2f}[/]")
        return table


def print_frame(frame: pd.DataFrame, title: str | None = None, max_rows: int = 20) -> None:
    """Print a DataFrame as a rich table (first ``max_rows`` rows)."""
    table = Table(title=title, show_edge=False)
    for col in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[col])
        table.add_column(str(col), justify="right" if numeric else "left")
    for row in frame.head(max_rows).itertuples(index=False):
        table.add_row(*[f"{v:,.4g}" if isinstance(v, float) else (f"{v:,}" if isinstance(v, int) else str(v)) for v in row])
    console.print(table)
    if len(frame) > max_rows:
        console.print(f"[dim]... {len(frame) - max_rows:,} more rows[/]")
