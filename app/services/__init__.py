"""Feature packages, one home per feature: use cases, rules.py, schemas.py, policy.py, events.py."""
