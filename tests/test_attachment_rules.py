"""Attachments' pure rules: any name made safe, any header that names it well formed, any form
read back byte for byte."""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.services.attachments.rules import (
    MAX_FILENAME_CHARS,
    OCTET_STREAM,
    Limits,
    MalformedForm,
    content_disposition,
    file_too_large,
    owner_would_overflow,
    parse_form,
    safe_filename,
    stored_content_type,
)
from app.services.tmf621.rules import ATTRIBUTE_EVENT, tmf_event_type

DROPPED = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}


@given(st.text(max_size=400))
def test_any_name_becomes_one_short_visible_segment(raw: str) -> None:
    name = safe_filename(raw)
    assert 0 < len(name) <= MAX_FILENAME_CHARS
    assert not set(name) & set('/\\<>:"|?*')
    assert not any(unicodedata.category(c) in DROPPED for c in name)
    assert not name.startswith((".", " "))
    assert safe_filename(name) == name  # already safe: kept as it is


@given(st.text(max_size=300), st.sampled_from(["text/html", "image/png", OCTET_STREAM]))
def test_the_disposition_header_names_the_safe_name_and_nothing_else(
    raw: str, content_type: str
) -> None:
    header = content_disposition(content_type, raw)
    assert header.isascii()
    assert all(" " <= c <= "~" for c in header)  # no CR, LF or other control: one header
    kind, fallback, encoded = header.split("; ")
    assert kind == ("inline" if content_type == "image/png" else "attachment")
    assert fallback.startswith('filename="')
    assert fallback.count('"') == 2
    assert encoded.startswith("filename*=UTF-8''")
    assert unquote(encoded.removeprefix("filename*=UTF-8''")) == safe_filename(raw)


def test_a_long_name_keeps_its_extension() -> None:
    assert safe_filename("x" * 300 + ".tar.gz") == "x" * 197 + ".gz"


@pytest.mark.parametrize(
    ("claimed", "kept"),
    [
        ("image/PNG", "image/png"),
        ("application/pdf; name=x.pdf", "application/pdf"),
        ("text/html\r\nX-Evil: 1", OCTET_STREAM),
        ("image", OCTET_STREAM),
        ("ima ge/png", OCTET_STREAM),
        ("a/b/c", OCTET_STREAM),
        (None, OCTET_STREAM),
    ],
)
def test_only_a_well_formed_media_type_is_kept(claimed: str | None, kept: str) -> None:
    assert stored_content_type(claimed) == kept


def test_the_limits_name_themselves() -> None:
    limits = Limits(per_file=25 * 1024 * 1024, per_owner=25 * 1024 * 1024)
    assert file_too_large(25 * 1024 * 1024, limits) is None
    assert "at most 25 MiB" in str(file_too_large(25 * 1024 * 1024 + 1, limits))
    assert owner_would_overflow(1, 25 * 1024 * 1024 - 1, limits) is None
    assert "(0 bytes left)" in str(owner_would_overflow(2, 25 * 1024 * 1024, limits))


BOUNDARY = "----cd-boundary-7MA4YWxkTrZu0gW"


def _form(data: bytes, filename: str) -> bytes:
    disposition = "Content-Disposition: form-data; name="
    head = (
        f'--{BOUNDARY}\r\n{disposition}"visibility"\r\n\r\ninternal\r\n'
        f'--{BOUNDARY}\r\n{disposition}"file"; filename="{filename}"\r\n'
        "Content-Type: application/zip\r\n\r\n"
    )
    return head.encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode()


@given(st.binary(max_size=4096))
def test_a_form_is_read_back_byte_for_byte(data: bytes) -> None:
    parts = parse_form(f"multipart/form-data; boundary={BOUNDARY}", _form(data, "a.zip"))
    assert parts["file"].data == data
    assert parts["file"].filename == "a.zip"
    assert parts["file"].content_type == "application/zip"
    assert parts["visibility"].data == b"internal"


def test_a_browsers_escapes_and_an_rfc_8187_name_are_decoded() -> None:
    escaped = _form(b"x", "C:\\dir\\%22quoted%22.zip")
    parts = parse_form(f'multipart/form-data; boundary="{BOUNDARY}"', escaped)
    assert parts["file"].filename == 'C:\\dir\\"quoted".zip'
    extended = escaped.replace(
        b'filename="C:\\dir\\%22quoted%22.zip"', b"filename*=UTF-8''r%C3%A9sum%C3%A9.zip"
    )
    parts = parse_form(f"multipart/form-data; boundary={BOUNDARY}", extended)
    assert parts["file"].filename == "résumé.zip"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"--x\r\n\r\n--x--"),
        ("multipart/mixed; boundary=x", b"--x\r\n\r\n--x--"),
        ("multipart/form-data; boundary=x", b"no delimiter at all"),
        ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data"),
        ("multipart/form-data; boundary=x", b"--x\r\nX: y\r\n\r\ndata\r\n--x--"),
        ("multipart/form-data; boundary=x", b"--xjunk\r\n\r\n\r\n--x--"),
    ],
)
def test_a_malformed_form_is_refused(content_type: str, body: bytes) -> None:
    with pytest.raises(MalformedForm):
        parse_form(content_type, body)


def test_a_public_file_is_an_attribute_change_for_tmf621_hubs_and_an_internal_one_nothing() -> None:
    public = tmf_event_type("ticket.attachment_added", {"visibility": "public"})
    assert public == ATTRIBUTE_EVENT
    assert tmf_event_type("ticket.attachment_added", {"visibility": "internal"}) is None
