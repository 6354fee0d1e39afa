"""Seeded hashes (curation/seeded.py), the one definition behind a queue's random share and a row's template."""
from curation.seeded import seeded_int, unit_hash


def test_the_same_inputs_give_the_same_number_in_any_process():
    assert unit_hash(7, "fill", 42) == unit_hash(7, "fill", 42)
    assert 0.0 <= unit_hash(7, "fill", 42) < 1.0
    assert unit_hash(7, "fill", 42) != unit_hash(8, "fill", 42)
    # Fixed values: a change here would re-pick every stored spot check and instruction template.
    assert seeded_int(0, 1, sep="\x1f") == 1996223273731639052  # sha256("0\x1f1"), first 8 bytes
    assert round(unit_hash(1, "overlap", 3, "9"), 12) == round(seeded_int(1, "overlap", 3, "9") / 2**64, 12)
