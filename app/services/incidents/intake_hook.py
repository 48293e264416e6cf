"""The link a new ticket makes by itself: a ticket opened on a service an open incident
affects is worked under that incident from its first moment."""

from __future__ import annotations


def link_new_ticket_cte(source: str, *, enterprise: str, service: str, at: str) -> str:
    """A CTE (`incident_link`) for ticket intake's one statement: links each row of `source`
    (a CTE with `id`, `enterprise_id`) to every open incident affecting the service `service`
    of `enterprise` (SQL expressions; the service is null when the ticket names none). No
    extra round trip; the enterprise named as a value routes the look-up to one shard."""
    return f"""incident_link AS (
  INSERT INTO incident_tickets (incident_id, ticket_id, enterprise_id, linked_at)
  SELECT s.incident_id, {source}.id, {source}.enterprise_id, {at}
    FROM {source}
    JOIN incident_services s
      ON s.enterprise_id = {enterprise}::uuid AND s.service_id = {service}::uuid
    JOIN incidents i ON i.id = s.incident_id AND i.status = 'open'
)"""
