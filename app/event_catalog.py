"""Every feature's event types: importing this fills the event registry.

A composition module, like `app.main`: the API and the worker import it, so every
payload model is registered before an event is recorded, read or delivered.
"""

import app.services.tickets.events  # noqa: F401
