"""`TicketRead` as PostgreSQL writes it: the JSON of a ticket and its clocks built in the
statement that reads them, so the hot reads answer the server's text as it comes.

The fields, their order and their formats are `TicketRead`'s as pydantic writes them
(instants in UTC with `Z` and six fractional digits when they have any, floats with a
fraction); `tests/test_ticket_json.py` holds the two to the same document. One field is
not written in SQL: a clock's `target`, whose ISO 8601 form is `rules.format_duration`'s
business. The statement leaves its seconds between two U+0001 marks, a character the
server's JSON escapes everywhere else (in every string and every `jsonb` value), and
`finish` puts the rule's text in their place.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from functools import lru_cache

from app.services.tickets.rules import format_duration

MARK = "\x01"


def value(expr: str) -> str:
    """The JSON text of `expr` (a string, number, boolean, uuid or jsonb), `null` for NULL."""
    return f"coalesce(to_json({expr})::text, 'null')"


def instant(expr: str) -> str:
    """A timestamptz as pydantic writes an aware UTC datetime, `null` for NULL: six fractional
    digits, none on a whole second."""
    text = f"to_char({expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
    return f"coalesce('\"' || replace({text}, '.000000Z', 'Z') || '\"', 'null')"


def seconds(expr: str) -> str:
    """A float8 of seconds rounded to the microsecond, as Python writes a float (`0.0`)."""
    rounded = f"round({expr}::numeric, 6)::float8"
    return (
        f"CASE WHEN {rounded} = trunc({rounded}) THEN trunc({rounded})::bigint::text || '.0' "
        f"ELSE {rounded}::text END"
    )


def obj(fields: list[tuple[str, str]]) -> str:
    """A JSON object's text from (key, SQL expression of the value's JSON text) pairs."""
    parts = " || ',' || ".join(f"'\"{key}\":' || {expr}" for key, expr in fields)
    return f"('{{' || {parts} || '}}')"


CLOCK = obj(
    [
        ("stage", value("c.stage")),
        ("started_at", instant("c.started_at")),
        (
            "target",
            "coalesce(chr(1) || c.target_seconds::text || chr(1), 'null')",
        ),
        ("due_at", instant("c.due_at")),
        ("completed_at", instant("c.completed_at")),
        ("paused_seconds", seconds("coalesce(c.paused_seconds, 0)")),
        ("state", value("c.state")),
        ("warned_at", instant("c.warned_at")),
        ("breached_at", instant("c.breached_at")),
        ("escalation_level", value("coalesce(c.escalation_level, 0)")),
    ]
)

# The ticket's clocks, oldest first (the same enterprise: Citus joins only co-located rows).
SLA = (
    f"'[' || coalesce((SELECT string_agg({CLOCK}, ',' ORDER BY c.id) FROM sla_clocks c "
    "WHERE c.enterprise_id = t.enterprise_id AND c.ticket_id = t.id), '') || ']'"
)

SITE = (
    "CASE WHEN t.site IS NULL THEN 'null' ELSE "
    + obj(
        [
            ("address", value("t.site->>'address'")),
            ("city", value("t.site->>'city'")),
            ("country", value("t.site->>'country'")),
        ]
    )
    + " END"
)

# `TicketRead` of the row `t` of `tickets`, field by field in its order.
TICKET = obj(
    [
        ("id", value("t.id")),
        ("number", value("t.number")),
        ("enterprise_id", value("t.enterprise_id")),
        ("service_id", value("t.service_id")),
        ("severity", value("t.severity")),
        ("summary", value("t.summary")),
        ("description", value("t.description")),
        ("contact", value("t.contact")),
        ("site", SITE),
        ("city_tier", value("t.city_tier")),
        ("status", value("t.status")),
        ("stage", value("t.stage")),
        ("escalation_level", value("t.escalation_level")),
        ("breached", value("t.breached")),
        ("hold_reason", value("t.hold_reason")),
        ("sla", SLA),
        ("external_id", value("t.external_id")),
        ("channel", value("t.channel")),
        ("reported_at", instant("t.reported_at")),
        ("created_at", instant("t.created_at")),
        ("updated_at", instant("t.updated_at")),
        ("version", value("t.version")),
    ]
)

_TARGET = re.compile(f"{MARK}([^{MARK}]*){MARK}")


@lru_cache(maxsize=1024)
def _target(text: str) -> str:
    return json.dumps(format_duration(timedelta(seconds=float(text))))


def finish(text: str) -> bytes:
    """The statement's JSON with every clock's target written by `format_duration`."""
    if MARK in text:
        text = _TARGET.sub(lambda m: _target(m.group(1)), text)
    return text.encode()
