"""Chart data as CSV: the columns of the chart's table, raw values (cents, decimal hours)."""

from __future__ import annotations

import csv
import io

# A cell starting with one of these is a formula to spreadsheet software (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def to_csv(columns: list[str], rows: list[dict]) -> bytes:
    """UTF-8 CSV with a header and a byte-order mark (spreadsheets then read accents right).

    Values are written as they are (integers for cents, decimal strings for hours and ratios);
    text that could be read as a formula is prefixed with an apostrophe.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, str):
        return str(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value
