"""Seeded hashes: reproducible picks (a queue's random share, a row's instruction template) that any process
and any database agree on, unlike random.Random state or ORDER BY random()."""
import hashlib


def seeded_int(*parts: object, sep: str = ":") -> int:
    """A 64-bit number fixed by its inputs (their text joined by sep)."""
    digest = hashlib.sha256(sep.join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def unit_hash(*parts: object) -> float:
    """A number in [0, 1) fixed by its inputs: seeded sampling that any database reproduces."""
    return seeded_int(*parts) / 2**64
