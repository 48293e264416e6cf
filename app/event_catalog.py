"""Every feature's event types, imported here so the registry is full in every process.

Like `app.models`, a composition module: the API (`app.main`) and the worker import it, so an
event type is known wherever an event is recorded, shown or delivered. Keep it a plain sorted
list of imports, one per feature's `events` module.
"""

import app.services.attachments.events
import app.services.billing.events
import app.services.changes.events
import app.services.maintenance.events
import app.services.orders.events
import app.services.tickets.events
