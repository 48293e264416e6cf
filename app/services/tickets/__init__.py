"""Trouble tickets: intake, the stage workflow, SLA clocks and engine, policies, report."""
