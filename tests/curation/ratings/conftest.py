"""Fixtures of the ratings tests: a subset of rated-looking samples with real stored images."""
import pytest

from tests.factories import image_make, sample_make, source_make, subset_make

TURNS = [
    [{"user": "How many dogs are in the picture?", "assistant": "There are three dogs."},
     {"user": "What colour is the ball?", "assistant": ""}],
    [{"user": "Who wrote Hamlet?", "assistant": "Shakespeare wrote Hamlet."}],
    [{"user": "Describe the image.", "assistant": "<image> a kitchen with a table and the"}],
]


@pytest.fixture
def rating_subset(db):
    subset = subset_make(name="Rated VQA")
    source = source_make()
    for i, turns in enumerate(TURNS):
        sample_make(subset=subset, source=source, row_number=i, turns=turns, images=[image_make()] if i != 1 else [])
    subset.refresh_from_db()
    return subset
