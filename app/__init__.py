"""Carrier Desk: the customer care of a network carrier as an async REST/JSON API."""

__version__ = "0.1.0"
