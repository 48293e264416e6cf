"""Billing requests: inquiries, disputes, data changes, PO/HES/MIGO references, credits."""
