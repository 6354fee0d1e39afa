"""HTMX conventions the pages share."""

# HTMX stops polling when a response has this status.
HTMX_STOP_POLLING = 286
