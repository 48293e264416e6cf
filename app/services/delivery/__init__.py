"""Delivery: the outbox fan-out, mail, Standard Webhooks and the live event stream."""
