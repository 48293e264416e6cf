"""Identity: API clients, users, sign-in sessions and how a bearer token becomes a caller."""
