"""Which invoice a billing-data change or an invoice-reference request takes effect on.

The handbooks (seeds 000-002) say: asked on days 1-15 of a month, the next
month's invoice; "from the 15th" to the month's end, the invoice after that.
They name the 15th in both ranges; Carrier Desk takes the 15th as part of the
first half, so the rule is: day 1-15 -> next month, day 16 onwards -> the month
after next.
"""

from __future__ import annotations

from datetime import date

FIRST_HALF_LAST_DAY = 15
TYPES_WITH_EFFECTIVE_INVOICE = frozenset({"billing_data_change", "invoice_reference"})


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def effective_invoice(asked_on: date) -> str:
    """The invoice month (`YYYY-MM`) a change asked on this local date applies to."""
    months = 1 if asked_on.day <= FIRST_HALF_LAST_DAY else 2
    year, month = _add_months(asked_on.year, asked_on.month, months)
    return f"{year:04d}-{month:02d}"
