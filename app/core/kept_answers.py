"""An `Idempotency-Key`'s answer as SQL, for a use case that is one statement on the driver
(ticket intake): the answer kept for the key read in its first statement, its own answer stored
by its last. The rest of the rule (claims, replays, what is kept) is `core.idempotency`'s."""

from __future__ import annotations


def stored_answer_cte(
    source: str,
    *,
    principal: str,
    key: str,
    request_hash: str,
    body: str,
    at: str,
    headers: str,
) -> str:
    """What `commit_creation` stores, as a CTE (`i`) for a hot path that folds it into its own
    statement: the 201 answer to an `Idempotency-Key` with its headers (a JSON object), written
    once per row of `source` and only when a key was given (`principal` is NULL otherwise). The
    arguments are SQL expressions."""
    return f"""i AS (
  INSERT INTO idempotency_records (principal, key, request_hash, status_code, body, headers,
      created_at)
  SELECT {principal}::text, {key}::text, {request_hash}::text, 201, {body}::jsonb,
      {headers}::jsonb, {at}
  FROM {source} WHERE {principal}::text IS NOT NULL
)"""


# The columns `kept_answer_cte` adds to a statement's row: NULL when nothing is kept.
KEPT_COLUMNS = "k.kept_hash, k.kept_status, k.kept_body, k.kept_headers"


def kept_answer_cte(*, principal: str, key: str) -> str:
    """The answer kept for an `Idempotency-Key`, as a CTE (`k`) for a hot path that reads it in
    its own first statement (LEFT JOIN k ON true, selecting `KEPT_COLUMNS`): no row when none is
    kept or no key was given (`principal` NULL). The arguments are SQL expressions."""
    return f"""k AS MATERIALIZED (
  SELECT request_hash AS kept_hash, status_code AS kept_status, body AS kept_body,
         headers AS kept_headers
  FROM idempotency_records WHERE principal = {principal}::text AND key = {key}::text
)"""
