"""TMF621 Trouble Ticket v4: TM Forum's face over Carrier Desk's tickets, and its hubs."""
