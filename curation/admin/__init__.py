"""Django admin for every model; one module per area."""
from curation.admin import actions, approval, exports, jobs, mapping, review, samples, sources, users  # noqa: F401
