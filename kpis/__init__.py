"""kpis package."""
