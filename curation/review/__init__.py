"""The review machinery's plug-in point: the kind registry and the kinds that ship with FineCurate.

A capability adds a kind by writing one module (its decision form, target template and effect) and
importing it here.
"""
from curation.review import duplicate, hard_negative, kinds, rating, sample  # noqa: F401
