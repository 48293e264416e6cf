"""Billing requests: types, lifecycle, the deadlines the handbooks give them, which invoice a
change takes effect on, and money as ISO 4217 decimals (never a float)."""

from __future__ import annotations

import re
import uuid
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum


class BillingType(StrEnum):
    inquiry = "inquiry"
    dispute = "dispute"
    balance = "balance"
    payment = "payment"
    billing_data_change = "billing_data_change"
    invoice_reference = "invoice_reference"


class BillingStatus(StrEnum):
    received = "received"
    acknowledged = "acknowledged"
    in_review = "in_review"
    resolved = "resolved"
    rejected = "rejected"


ACK_BUSINESS_HOURS = 48  # seed 003: "PT48H business hours"

OPEN_STATUSES = frozenset(
    {BillingStatus.received, BillingStatus.acknowledged, BillingStatus.in_review}
)

# A resolution ends a request, accepted (`resolved`) or not (`rejected`), from any open status.
RESOLUTIONS = frozenset({BillingStatus.resolved, BillingStatus.rejected})

# received -> acknowledged -> in_review; a resolution ends it from any open status.
BILLING_TRANSITIONS: dict[BillingStatus, frozenset[BillingStatus]] = {
    BillingStatus.received: frozenset({BillingStatus.acknowledged, *RESOLUTIONS}),
    BillingStatus.acknowledged: frozenset({BillingStatus.in_review, *RESOLUTIONS}),
    BillingStatus.in_review: RESOLUTIONS,
    BillingStatus.resolved: frozenset(),
    BillingStatus.rejected: frozenset(),
}


def resolution(outcome: str) -> BillingStatus:
    """The status an outcome ends a request in."""
    return BillingStatus.resolved if outcome == "accepted" else BillingStatus.rejected


# Billing requests have no number of their own: the short form of their id names them in mail.
REQUEST_NUMBER_PREFIX = "BR-"
REQUEST_NUMBER_PATTERN = r"BR-[0-9A-F]{8}"


def request_number(request_id: uuid.UUID) -> str:
    """`BR-1A2B3C4D`: how mail names a billing request (the first 8 hex digits of its id)."""
    return f"{REQUEST_NUMBER_PREFIX}{request_id.hex[:8].upper()}"


def mailbox_for(mailboxes: dict[str, list[str]], country: str) -> str | None:
    """The PO/HES/MIGO mailbox serving a country (`billing_mailboxes` in the data)."""
    for address, countries in mailboxes.items():
        if country.upper() in countries:
            return address
    return None


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


ISO_4217 = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD
    BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP
    DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR
    IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD
    MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB
    PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD
    SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS
    VED VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL
    """.split()
)

MAX_DIGITS = 14

AMOUNT = re.compile(r"[0-9]{1,20}(\.[0-9]{1,20})?")

MAX_PLACES = 4


# ISO 4217 minor units: two decimal places unless listed here.
MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(
        "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(), 0
    ),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
    **dict.fromkeys("CLF UYW".split(), 4),
}


def minor_units(currency: str) -> int:
    return MINOR_UNITS.get(currency, 2)


def money_text(amount: Decimal, currency: str) -> str:
    """An amount as the API writes it: a decimal string with exactly the currency's minor
    units ("120.50" USD, "1000" JPY, "1.250" BHD), never a float, never an exponent."""
    return f"{amount.quantize(Decimal(1).scaleb(-minor_units(currency))):f}"


def amount_problem(amount: Decimal, currency: str) -> str | None:
    """Why an amount cannot be written in its currency (finer than its minor unit), or None."""
    places = minor_units(currency)
    if amount != amount.quantize(Decimal(1).scaleb(-places)):
        return f"{currency} has {places} decimal places"
    return None


def is_currency(code: str) -> bool:
    return code in ISO_4217


def parse_amount(text: str) -> Decimal:
    """A positive decimal with at most 4 places and 14 digits; ValueError otherwise."""
    if not AMOUNT.fullmatch(text):
        raise ValueError('a plain decimal string such as "150.25"')
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError("not a decimal number") from exc
    if not amount.is_finite() or amount <= 0:
        raise ValueError("must be a positive amount")
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > MAX_PLACES:
        raise ValueError(f"at most {MAX_PLACES} decimal places")
    if amount.adjusted() >= MAX_DIGITS - MAX_PLACES:
        raise ValueError("too large")
    return amount
