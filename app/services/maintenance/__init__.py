"""Planned maintenance (GCR): windows, notice periods, notices, the iCalendar feed."""
