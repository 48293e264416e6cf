"""ISO 4217 currency codes and decimal money: a credit is never a float."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

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
