"""Attachments' pure rules: a safe file name, a content type we can vouch for, how a download is
served, the size limits, and reading a `multipart/form-data` body.

We never decompress, open or scan a file: an archive (a zip bomb included) is stored and served
as the bytes it is, so its contents cost us nothing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote, unquote

OCTET_STREAM = "application/octet-stream"

# The routes that take a file (`POST .../attachments`): the platform lets them send
# multipart/form-data, up to the file limit and this much more for the form around the file.
UPLOAD_PATH = re.compile(r"^/v1/(tickets|billing-requests)/[^/]+/attachments$")
FORM_OVERHEAD_BYTES = 64 * 1024

# The longest file name kept, in characters (the column holds 255): long enough for any name a
# person gives a file, short enough for every file system a download lands on.
MAX_FILENAME_CHARS = 200

FALLBACK_FILENAME = "attachment"

# Served `inline` (a browser may show them); every other type is served as a download, so a
# file never runs as a page of ours (text/html, image/svg+xml, application/xhtml+xml...).
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "text/plain"})

# A media type as RFC 9110 spells it: `type/subtype`, each a token.
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_TYPE = re.compile(rf"^({_TOKEN})/({_TOKEN})$")

# Unicode categories a file name never keeps: controls, format characters (the right-to-left
# override U+202E, zero-width joiners, bidi isolates), line and paragraph separators,
# surrogates, private use and unassigned code points.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})

# Characters no file system or shell takes kindly in a name.
_RESERVED = set('<>:"/\\|?*')


class AttachmentOwner(StrEnum):
    """What an attachment hangs on: the subject type of its events, too."""

    ticket = "ticket"
    billing_request = "billing_request"


def safe_filename(raw: str | None) -> str:
    """The name a file is kept and served under: its last path segment only, no control or
    direction-changing characters, nothing a file system reserves, no leading dots, at most
    `MAX_FILENAME_CHARS` characters with its extension kept; `attachment` when nothing is left."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    kept = []
    for char in name:
        if char.isspace():
            kept.append(" ")
        elif unicodedata.category(char) not in _DROPPED_CATEGORIES:
            kept.append("_" if char in _RESERVED else char)
    name = " ".join("".join(kept).split())  # any run of white space becomes one space
    name = name.lstrip(". ").rstrip(". ")
    if not name:
        return FALLBACK_FILENAME
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and 0 < len(extension) <= 16:
            name = stem[: MAX_FILENAME_CHARS - len(extension) - 1].rstrip(". ") + "." + extension
        else:
            name = name[:MAX_FILENAME_CHARS].rstrip(". ")
    return name or FALLBACK_FILENAME


def stored_content_type(claimed: str | None) -> str:
    """The media type kept for a file: the one claimed, lower-cased and without parameters, when
    it is a well-formed `type/subtype`; `application/octet-stream` otherwise."""
    if not claimed:
        return OCTET_STREAM
    essence = claimed.split(";", 1)[0].strip()
    match = _MEDIA_TYPE.match(essence)
    if match is None or len(essence) > 255:
        return OCTET_STREAM
    return essence.lower()


def disposition_type(content_type: str) -> str:
    """`inline` for the few types a browser shows harmlessly, `attachment` for the rest."""
    return "inline" if content_type in INLINE_TYPES else "attachment"


def content_disposition(content_type: str, filename: str) -> str:
    """A `Content-Disposition` header (RFC 6266) naming the file: an ASCII `filename` for old
    clients and the exact name as RFC 8187 `filename*`. Neither can carry a quote, a line break
    or any other character that would end the header early."""
    ascii_name = "".join(
        c if " " <= c <= "~" and c not in '"\\%' else "_" for c in safe_filename(filename)
    )
    encoded = quote(safe_filename(filename), safe="")
    kind = disposition_type(content_type)
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}"


@dataclass(frozen=True, slots=True)
class Limits:
    """Bytes one file may hold, and all the files of one ticket or billing request together."""

    per_file: int
    per_owner: int


def mebibytes(size: int) -> str:
    """`26214400` → `25 MiB`; sizes that are not whole MiB keep their bytes."""
    mib = 1024 * 1024
    return f"{size // mib} MiB" if size % mib == 0 else f"{size} bytes"


def file_too_large(size: int, limits: Limits) -> str | None:
    """Why a file of `size` bytes is refused, or None."""
    if size > limits.per_file:
        return f"the file is {size} bytes; a file may hold at most {mebibytes(limits.per_file)}"
    return None


def owner_would_overflow(size: int, stored: int, limits: Limits) -> str | None:
    """Why adding `size` bytes to an owner already holding `stored` is refused, or None."""
    if stored + size > limits.per_owner:
        left = max(limits.per_owner - stored, 0)
        return (
            f"the attachments would total {stored + size} bytes; one ticket or request holds at "
            f"most {mebibytes(limits.per_owner)} ({left} bytes left)"
        )
    return None


class MalformedForm(ValueError):
    """A body that is not the `multipart/form-data` it claims to be."""


@dataclass(frozen=True, slots=True)
class FormPart:
    name: str
    filename: str | None
    content_type: str | None
    data: bytes


# A parameter of a part's Content-Disposition: `name="value"` (browsers write `"`, CR and LF
# in a value as %22, %0D, %0A and leave backslashes alone, so a Windows path stays a path) or
# `name=token`.
_PARAMETER = re.compile(r';\s*([A-Za-z0-9_*.-]+)\s*=\s*(?:"([^"]*)"|([^;\s]*))')
_BROWSER_ESCAPES = {"%22": '"', "%0D": "\r", "%0A": "\n", "%0d": "\r", "%0a": "\n"}


def _unescape(value: str) -> str:
    return re.sub(r"%(22|0[DdAa])", lambda m: _BROWSER_ESCAPES[m.group(0)], value)


def _disposition_parameters(value: str) -> dict[str, str]:
    """The parameters of a form part's Content-Disposition, `filename*` (RFC 8187) decoded."""
    found: dict[str, str] = {}
    for match in _PARAMETER.finditer(value):
        key, quoted, token = match.group(1).lower(), match.group(2), match.group(3)
        text = quoted if quoted is not None else token or ""
        if key.endswith("*"):
            charset, _, rest = text.partition("'")
            _language, _, encoded = rest.partition("'")
            try:
                found[key[:-1]] = unquote(encoded, encoding=charset or "utf-8", errors="replace")
            except LookupError:  # a charset Python does not know
                found[key[:-1]] = unquote(encoded, errors="replace")
            continue
        found.setdefault(key, _unescape(text))
    return found


def _part_headers(block: bytes) -> dict[str, str]:
    """A part's header lines by lower-case name (UTF-8, as browsers send names; a byte that is
    not becomes U+FFFD, and the file name rules drop nothing else for it)."""
    headers: dict[str, str] = {}
    for line in block.decode("utf-8", "replace").split("\r\n"):
        name, colon, value = line.partition(":")
        if colon:
            headers.setdefault(name.strip().lower(), value.strip())
    return headers


def form_boundary(content_type: str) -> bytes:
    """The boundary a `multipart/form-data` Content-Type names (RFC 2046: 1-70 characters)."""
    essence, _, parameters = content_type.partition(";")
    if essence.strip().lower() != "multipart/form-data":
        raise MalformedForm("send the file as multipart/form-data")
    boundary = _disposition_parameters(";" + parameters).get("boundary", "")
    if not 1 <= len(boundary) <= 70 or not boundary.isascii():
        raise MalformedForm("the multipart/form-data Content-Type names no boundary")
    return boundary.encode("ascii")


def parse_form(content_type: str, body: bytes) -> dict[str, FormPart]:
    """The parts of a `multipart/form-data` body (RFC 7578), by field name (the first part of
    each name). Found with `bytes.find`, so a large file costs one copy, not a line-by-line
    parse."""
    delimiter = b"--" + form_boundary(content_type)
    start = body.find(delimiter)
    if start < 0 or (start > 0 and body[start - 2 : start] != b"\r\n"):
        raise MalformedForm("the body holds no part delimited by its boundary")
    parts: dict[str, FormPart] = {}
    position = start + len(delimiter)
    while True:
        if body.startswith(b"--", position):
            return parts  # the close delimiter
        line_end = body.find(b"\r\n", position)
        if line_end < 0 or body[position:line_end].strip(b" \t"):
            raise MalformedForm("a boundary line is followed by something else than a line break")
        following = body.find(b"\r\n" + delimiter, line_end)
        if following < 0:
            raise MalformedForm("the body ends inside a part (no closing boundary)")
        part_start = line_end + 2
        if body.startswith(b"\r\n", part_start):
            headers_block, data_start = b"", part_start + 2
        else:
            headers_end = body.find(b"\r\n\r\n", part_start, following)
            if headers_end < 0:
                raise MalformedForm("a part has no blank line after its headers")
            headers_block, data_start = body[part_start:headers_end], headers_end + 4
        data = body[data_start:following]  # the one copy of the file's bytes
        headers = _part_headers(headers_block)
        disposition = headers.get("content-disposition", "")
        parameters = _disposition_parameters(disposition)
        name = parameters.get("name")
        if not disposition.lower().startswith("form-data") or not name:
            raise MalformedForm("a part has no Content-Disposition naming its field")
        parts.setdefault(
            name,
            FormPart(
                name=name,
                filename=parameters.get("filename"),
                content_type=headers.get("content-type"),
                data=data,
            ),
        )
        position = following + 2 + len(delimiter)
