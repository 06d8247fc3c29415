"""A self-contained HTML report of one run: what went in, what was removed and why."""

from cleaner.report.page import write_report

__all__ = ["write_report"]
