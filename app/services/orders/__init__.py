"""Orders: created by the customer care manager, followed through the six touchpoints."""
