"""The refused rows a school downloads open in a spreadsheet as text, never as formulas."""

from __future__ import annotations

import csv
import io

from aptt_web.pages.staff import spreadsheet_safe


def test_a_cell_a_spreadsheet_would_run_is_kept_as_text() -> None:
    hostile = ['=HYPERLINK("http://x.invalid","click")', "+1+1", "-2", "@SUM(A1)", "\tx"]
    for cell in hostile:
        assert spreadsheet_safe(cell) == "'" + cell
    out = io.StringIO()
    csv.writer(out).writerow([spreadsheet_safe(c) for c in hostile])
    [row] = list(csv.reader(io.StringIO(out.getvalue())))
    assert all(cell.startswith("'") for cell in row)


def test_ordinary_text_is_unchanged() -> None:
    for cell in ("users.csv", "12", "the role wizard is not a OneRoster role", "", "a=b"):
        assert spreadsheet_safe(cell) == cell
