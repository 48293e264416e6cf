"""Business time: each country's office hours, holidays, closed days and time zone."""
