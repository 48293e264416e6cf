"""Change requests on active services and the catalogue of standard changes."""
