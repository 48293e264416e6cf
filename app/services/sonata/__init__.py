"""MEF LSO Sonata Trouble Ticket and Incident Management v4: wholesale carriers' face over
Carrier Desk's tickets and network incidents, and its hubs."""
