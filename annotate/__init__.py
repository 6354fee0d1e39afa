"""The people-facing pages: HTMX views, review queues, dashboards."""
