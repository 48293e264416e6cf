"""The pure rules of mail in: plain asserts and hypothesis."""

from __future__ import annotations

import uuid
from email.utils import make_msgid

from hypothesis import given
from hypothesis import strategies as st

from app.services.delivery.rules import MESSAGE_ID_DOMAIN
from app.services.inbound_mail.references import numbers_in_subject, our_mail_ids
from app.services.inbound_mail.rules import (
    ACKS_PER_SENDER_PER_HOUR,
    automatic_reason,
    may_acknowledge,
    names_invoice_reference,
    recognised_service,
    strip_quoted,
)


def test_a_reply_names_the_mail_we_sent_by_its_message_id() -> None:
    mail_id = uuid.uuid4()
    # As the mail sender makes it (the round trip through real SMTP is in test_inbound_mail).
    sent = make_msgid(idstring=mail_id.hex, domain=MESSAGE_ID_DOMAIN)
    header = f"<other@elsewhere.example> {sent}"
    assert our_mail_ids([header]) == [mail_id]
    assert our_mail_ids(["<1.2.3.abc@carrierdesk>", "<x@y>"]) == []


def test_numbers_in_brackets_are_found_in_any_case_and_order() -> None:
    subject = "RE: RV: [tt-2026-000123] y [BR-1a2b3c4d] (TT-2026-000999 sin corchetes)"
    assert numbers_in_subject(subject) == ["TT-2026-000123", "BR-1A2B3C4D"]


def test_automatic_mail_is_recognised_and_a_persons_is_not() -> None:
    assert automatic_reason({"auto-submitted": "auto-replied"}, None)
    assert automatic_reason({"auto-submitted": "no"}, "ana@acme.example") is None
    assert automatic_reason({"precedence": "junk"}, None)
    assert automatic_reason({"list-id": "<noc.list>"}, None)
    assert automatic_reason({}, "")  # a null sender: a bounce
    assert automatic_reason({"from": "MAILER-DAEMON@mx.example"}, None)
    assert automatic_reason({"from": "Ana <ana@acme.example>"}, "ana@acme.example") is None


def test_the_quoted_history_is_cut_in_english_spanish_and_portuguese() -> None:
    for attribution in (
        "On Mon, 1 Dec 2026, Carrier Desk <desk@carrier> wrote:",
        "El lun, 1 dic 2026 a las 10:00, Carrier Desk escribió:",
        "Em seg., 1 de dez. de 2026, Carrier Desk escreveu:",
        "-----Original Message-----",
    ):
        text = f"Sigue caído.\n\n{attribution}\n> Recibimos su correo\nold text"
        assert strip_quoted(text) == "Sigue caído."
    outlook = "Gracias\n\nDe: Carrier Desk\nEnviado: lunes\nPara: Ana\n\nold"
    assert strip_quoted(outlook) == "Gracias"


def test_the_service_is_the_first_code_named_as_a_word() -> None:
    codes = ["QUI-MPLS-0042", "QUI-MPLS-004", "GYE-INET-7"]
    assert recognised_service(codes, "Caído qui-mpls-0042", "") == "QUI-MPLS-0042"
    assert recognised_service(codes, "sin código", "ver GYE-INET-7 y QUI-MPLS-004") == "GYE-INET-7"
    assert recognised_service(codes, "QUI-MPLS-00421", "") is None


def test_po_hes_migo_wording_makes_an_invoice_reference() -> None:
    assert names_invoice_reference("HES 1000234", "")
    assert names_invoice_reference("Factura", "adjunto la orden de compra")
    assert not names_invoice_reference("Consulta de saldo", "¿cuánto debemos? (HESITANT)")


@given(st.integers(min_value=0, max_value=50))
def test_acknowledgements_stop_at_the_hourly_limit(sent: int) -> None:
    assert may_acknowledge(sent) == (sent < ACKS_PER_SENDER_PER_HOUR)


@given(st.text())
def test_stripping_quotes_never_fails_and_never_adds(text: str) -> None:
    stripped = strip_quoted(text)
    assert len(stripped) <= len(text)
