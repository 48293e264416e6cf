"""Mail in: mailboxes, the SMTP listener and IMAP poller that store what arrives, and the
processing that turns a stored message into a ticket, a billing request or a note."""
