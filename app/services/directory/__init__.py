"""The directory: whom to call per country and service, escalation, contacts, city tiers."""
