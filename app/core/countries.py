"""Countries Carrier Desk knows: ISO 3166-1 alpha-2, and the default language per country."""

from __future__ import annotations

import phonenumbers

# Every region phonenumbers knows is a country whose phone numbers and
# holidays we can reason about; "001" and friends are non-geographic.
COUNTRY_CODES = frozenset(r for r in phonenumbers.SUPPORTED_REGIONS if len(r) == 2)

# The handbooks' three languages: Brazil speaks Portuguese, the USA English,
# the rest of the region Spanish.
_LANGUAGE_BY_COUNTRY = {"BR": "pt", "US": "en", "PT": "pt", "GB": "en", "CA": "en"}


def default_language(country: str) -> str:
    return _LANGUAGE_BY_COUNTRY.get(country.upper(), "es")
