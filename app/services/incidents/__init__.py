"""Network incidents: one outage worked once, seen by each affected customer as its own."""
