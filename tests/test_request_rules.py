"""Pure rules of orders, billing, changes and maintenance."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.handbook import handbook
from app.services.billing.rules import effective_invoice, mailbox_for, parse_amount
from app.services.changes.rules import CATALOG, referral_role
from app.services.maintenance.rules import MaintenancePolicy, check_standard_work
from app.services.orders.rules import OrderStatus, status_after_touchpoint, touchpoint_keys

QUITO = ZoneInfo("America/Guayaquil")


@pytest.mark.parametrize(
    ("asked", "invoice"),
    [
        (date(2026, 11, 1), "2026-12"),
        (date(2026, 11, 15), "2026-12"),
        (date(2026, 11, 16), "2027-01"),
        (date(2026, 11, 20), "2027-01"),
        (date(2026, 12, 31), "2027-02"),
    ],
)
def test_invoice_cycle_counts_the_15th_in_the_first_half(asked: date, invoice: str) -> None:
    assert effective_invoice(asked) == invoice


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2200, 12, 31)))
def test_effective_invoice_is_one_or_two_months_ahead(asked: date) -> None:
    year, month = map(int, effective_invoice(asked).split("-"))
    ahead = (year * 12 + month) - (asked.year * 12 + asked.month)
    assert ahead == (1 if asked.day <= 15 else 2)


def test_mailboxes_come_from_the_handbook_data() -> None:
    boxes = handbook()["billing_mailboxes"]
    assert mailbox_for(boxes, "BR") == "BRA-billing@lumen.com"
    assert mailbox_for(boxes, "ve") == "Ven-grp-facturacion@lumen.com"
    assert mailbox_for(boxes, "JP") is None


def test_touchpoints_follow_the_data_and_the_connectivity_notice_delivers() -> None:
    keys = touchpoint_keys(handbook()["order_touchpoints"])
    assert len(keys) == 6
    assert keys[-1] == "connectivity_notice"
    assert status_after_touchpoint(OrderStatus.submitted, keys[0]) is OrderStatus.in_progress
    assert status_after_touchpoint(OrderStatus.in_progress, keys[-1]) is OrderStatus.delivered
    assert status_after_touchpoint(OrderStatus.cancelled, keys[-1]) is OrderStatus.cancelled


@pytest.mark.parametrize("text", ["0", "-5", "1.23456", "abc", "NaN", "Infinity", "1e20"])
def test_credit_amounts_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_amount(text)


def test_credit_amount_is_exact() -> None:
    assert str(parse_amount("150.25")) == "150.25"


def test_catalogue_keys_are_unique_and_referral_prefers_the_service_manager_for_managed() -> None:
    assert len({i.key for i in CATALOG}) == len(CATALOG)
    assert referral_role({"managed", "data"}) == "service_manager"
    assert referral_role({"data"}) == "account_manager"


NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def _at(day: int, hour: int, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=QUITO)


def test_window_crossing_midnight() -> None:
    policy = MaintenancePolicy("EC", time(22, 0), time(5, 0), 3)
    sites = [(policy, QUITO)]
    assert check_standard_work(_at(1, 23), _at(2, 4), NOW, sites) == []
    assert check_standard_work(_at(2, 1), _at(2, 4), NOW, sites) == []
    late = check_standard_work(_at(1, 23), _at(2, 6), NOW, sites)
    assert [b.rule for b in late] == ["maintenance_window"]


@given(st.integers(min_value=0, max_value=23), st.integers(min_value=1, max_value=30))
def test_default_window_is_midnight_to_six_local(hour: int, days_ahead: int) -> None:
    start = datetime.combine(
        (NOW + timedelta(days=days_ahead)).astimezone(QUITO).date(), time(hour), QUITO
    )
    broken = {
        b.rule
        for b in check_standard_work(
            start, start + timedelta(hours=1), NOW, [(MaintenancePolicy("EC"), QUITO)]
        )
    }
    assert ("maintenance_window" in broken) == (hour >= 6)
    assert ("notice_period" in broken) == (start - NOW < timedelta(days=10))
