"""The review machinery's plug-in point: the kind registry and the kinds that ship with FineCurate.

A capability adds a kind by writing one module (its decision form, target template and effect) and
importing it here.
"""
from curation.review import (  # noqa: F401
    kinds,
    rating,  # noqa: F401,E402
    sample,
)
