"""Enterprises (tenants), their billing accounts and their services."""
