"""Delivery rules without I/O: schedules, addresses, SMTP URLs, which events mail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.services.delivery.mail_sender import parse_smtp_url
from app.services.delivery.rules import (
    MAIL_RETRY_DELAYS,
    WEBHOOK_RETRY_DELAYS,
    Destination,
    destination,
    event_mails,
    is_private_address,
    next_retry,
    should_disable,
    url_problem,
    wire_host,
)

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def test_webhook_retries_start_within_seconds_and_span_about_a_day() -> None:
    assert WEBHOOK_RETRY_DELAYS[0] <= timedelta(seconds=5)
    total = sum(WEBHOOK_RETRY_DELAYS, timedelta())
    assert timedelta(hours=20) <= total <= timedelta(hours=30)
    assert list(WEBHOOK_RETRY_DELAYS) == sorted(WEBHOOK_RETRY_DELAYS)
    assert next_retry(1, NOW, WEBHOOK_RETRY_DELAYS) == NOW + timedelta(seconds=5)
    assert next_retry(len(WEBHOOK_RETRY_DELAYS) + 1, NOW, WEBHOOK_RETRY_DELAYS) is None
    assert next_retry(1, NOW, MAIL_RETRY_DELAYS) == NOW + MAIL_RETRY_DELAYS[0]


@given(st.integers(min_value=1, max_value=len(WEBHOOK_RETRY_DELAYS)))
def test_each_retry_waits_at_least_as_long_as_the_one_before(attempts: int) -> None:
    this = next_retry(attempts, NOW, WEBHOOK_RETRY_DELAYS)
    assert this is not None
    if attempts > 1:
        before = next_retry(attempts - 1, NOW, WEBHOOK_RETRY_DELAYS)
        assert before is not None
        assert this >= before


def test_an_endpoint_is_disabled_after_three_days_of_failure() -> None:
    assert not should_disable(None, NOW)
    assert not should_disable(NOW - timedelta(days=2, hours=23), NOW)
    assert should_disable(NOW - timedelta(days=3), NOW)


def test_webhook_urls_must_be_http_and_name_a_host() -> None:
    assert url_problem("https://noc.example.com/hooks") is None
    assert url_problem("ftp://noc.example.com") == "must be an http or https URL"
    assert url_problem("https://user:pw@noc.example.com") == "must not carry credentials"
    assert url_problem("http:///nohost") == "must name a host"
    assert url_problem("http://[::1") == "is not a valid URL"


def test_private_loopback_and_link_local_addresses_are_recognised() -> None:
    for address in ("127.0.0.1", "10.0.0.1", "192.168.1.1", "172.16.0.1", "169.254.169.254"):
        assert is_private_address(address), address
    for address in ("::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "0.0.0.0", "100.64.0.1"):
        assert is_private_address(address), address
    assert not is_private_address("8.8.8.8")
    assert not is_private_address("2001:4860:4860::8888")


def test_ipv6_transition_addresses_are_judged_by_the_ipv4_address_they_carry() -> None:
    for address in (
        "2002:a00:1::",  # 6to4 of 10.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::c0a8:101",  # NAT64 of 192.168.1.1
        "::ffff:10.0.0.1",  # IPv4-mapped
        "::10.0.0.1",  # IPv4-compatible
    ):
        assert is_private_address(address), address
    assert not is_private_address("2002:808:808::")  # 6to4 of 8.8.8.8


def test_host_names_go_on_the_wire_in_idna_ascii_and_malformed_ones_are_refused() -> None:
    assert wire_host("b\u00fccher.example") == "xn--bcher-kva.example"
    assert wire_host("NOC.Example.com") == "noc.example.com"
    assert wire_host("2001:db8::1") == "2001:db8::1"
    assert url_problem("https://b\u00fccher.example/hooks") is None
    for url in ("http://a..com/h", "http://-a.com/h", "http://xn--a.com/h", "http://a_b.com/h"):
        assert str(url_problem(url)).startswith("is not a valid host name"), url
    assert destination("https://b\u00fccher.example:8443/h") == Destination(
        "https", "xn--bcher-kva.example", 8443, "/h", "xn--bcher-kva.example:8443"
    )


def test_which_events_mail() -> None:
    for stage in ("registration", "diagnosis", "dispatch", "verification", "stability", "closure"):
        assert event_mails("ticket.stage_changed", {"to": stage})
    assert not event_mails("ticket.stage_changed", {"to": "field_repair"})
    assert not event_mails("ticket.created", {})
    assert event_mails("ticket.closed", {})
    assert event_mails("ticket.escalated", {})
    assert event_mails("maintenance.announced", {})
    assert event_mails("order.touchpoint_recorded", {})
    assert event_mails("billing.acknowledged", {})
    assert not event_mails("billing.received", {})


def test_smtp_urls() -> None:
    plain = parse_smtp_url("smtp://mail.example.com")
    assert (plain.hostname, plain.port, plain.use_tls, plain.start_tls) == (
        "mail.example.com",
        25,
        False,
        None,
    )
    tls = parse_smtp_url("smtps://user%40corp:p%2Fss@mail.example.com")
    assert (tls.port, tls.use_tls, tls.username, tls.password) == (465, True, "user@corp", "p/ss")
    starttls = parse_smtp_url("smtp://mail.example.com:587?starttls=true")
    assert (starttls.port, starttls.start_tls) == (587, True)


def test_a_destination_names_the_host_and_sends_an_ascii_target() -> None:
    # The name goes in the Host header (the connection goes to the checked address).
    assert destination("https://noc.example.com/h?x=1") == Destination(
        "https", "noc.example.com", 443, "/h?x=1", "noc.example.com"
    )
    assert destination("http://[2001:db8::1]:8080") == Destination(
        "http", "2001:db8::1", 8080, "/", "[2001:db8::1]:8080"
    )
    # What the URL escapes stays one escape; what it does not is escaped (UTF-8).
    assert destination("http://noc.example.com/a%20b/caf\u00e9 x?q=\u00f1&r=1").target == (
        "/a%20b/caf%C3%A9%20x?q=%C3%B1&r=1"
    )
