"""The built-in hard-negative engine on COCO-style captions: the three phases, the rule verifier and corrector,
and the share of negatives that change exactly one attribute (the figure the issue asks for)."""
import re

from curation.engines import hardneg_lexicon as lex
from curation.engines.hardneg import (
    LEVEL_EASY,
    LEVEL_HARD,
    LEVEL_MEDIUM,
    PHASE_ATOMIC,
    PHASE_ATTRIBUTE,
    PHASE_GLOBAL,
    VISUAL_BY_REVIEWER,
    Candidate,
    Change,
    Positive,
    change_spans,
    changed_regions,
    level_for,
)
from curation.engines.hardneg_builtin import BuiltinHardNegativeEngine, find_slots, fluency_problems
from curation.services.hard_negatives import MAX_CORRECTION_ROUNDS, negative_loop, positive_negatives

# Written for this test in the style of COCO captions (Karpathy split), one attribute family or more each.
CAPTIONS = [
    "A red double decker bus parked on the side of the street.",
    "Two dogs are sitting on a wooden bench next to a small boy.",
    "A man holding a striped umbrella while riding a bicycle.",
    "A cat on top of a table with a blue vase.",
    "A stop sign that says \"STOP\" on a metal pole.",
    "A woman in a white dress standing next to a brown horse.",
    "Three zebras walking across a dry field.",
    "A large elephant standing in the water.",
    "A plate with a sliced pizza and a green salad.",
    "A black and white cat sleeping on a couch.",
    "Two men riding horses on a beach.",
    "A small bird on top of a wooden fence.",
    "A yellow taxi driving down a busy street.",
    "A glass vase with red flowers on a table.",
    "A boy throwing a frisbee in the park.",
    "A girl holding a pink kite on a windy day.",
    "Four cows standing in a green pasture.",
    "An empty bench in front of a brick wall.",
    "A round table with two chairs in a kitchen.",
    "A giraffe standing behind a metal fence.",
    "A person riding a skateboard down a ramp.",
    "A white plate with a cake on it.",
    "A man sitting on a leather couch reading a book.",
    "Five sheep walking on a dirt road.",
    "A laptop on a wooden desk next to a white cup.",
    "A tall giraffe eating leaves from a tree.",
    "An orange cat lying on a blue blanket.",
    "A dog running on the beach with a ball.",
    "Two people standing under a black umbrella.",
    "A clean kitchen with a white refrigerator.",
    "A transparent glass bottle on the left of a plate.",
    "A plain shirt and an opaque vase on a shelf.",
    "A train on the tracks above a river.",
    "A crimson car parked behind a bus.",
    "A sign reading \"EXIT\" above a door.",
    "Three bananas in a ceramic bowl.",
]


def _run_loop(engine, positive, candidate):
    return negative_loop(engine=engine, positive=positive, candidate=candidate)


def test_the_three_phases_make_negatives_of_the_test_captions_and_most_change_exactly_one_attribute():
    engine = BuiltinHardNegativeEngine()
    passed, rejected = [], []
    for caption in CAPTIONS:
        others = [c for c in CAPTIONS if c != caption]
        for _slot, result in positive_negatives(engine=engine, positive=Positive(caption), ratio=10,
                                                attributes=list(lex.DEFAULT_ATTRIBUTES), others=others):
            (passed if result.verdict.ok else rejected).append(result)
    phases = {r.candidate.phase for r in passed}
    assert phases == {PHASE_GLOBAL, PHASE_ATTRIBUTE, PHASE_ATOMIC}
    attributes = {r.candidate.attribute for r in passed}
    assert {lex.COLOUR, lex.MATERIAL, lex.COUNT, lex.SPATIAL, lex.SIZE, lex.STATE, lex.ACTION, lex.OBJECT, lex.TEXT, lex.SHAPE,
            lex.PATTERN, lex.TRANSPARENCY} <= attributes
    # Every passed negative really differs from what it contradicts, and says each recorded target.
    for r in passed:
        assert r.candidate.text.lower() != r.candidate.fact.lower()
        assert r.verdict.visual == VISUAL_BY_REVIEWER and "reviewer" in r.verdict.message
    # The figure: negatives that change exactly one attribute in exactly the recorded place (one change in the
    # record, one changed region of text, or two for a relation swap), over every negative that passed.
    single = [r for r in passed if r.candidate.phase != PHASE_GLOBAL]
    exactly_one = [r for r in passed if len(r.candidate.changes) == 1 and level_for(r.candidate.changes) == LEVEL_HARD
                   and changed_regions(r.candidate.fact, r.candidate.text) <= (2 if r.candidate.operation == "swap_relation" else 1)]
    rate_all = len(exactly_one) / len(passed)
    rate_single = len([r for r in exactly_one if r.candidate.phase != PHASE_GLOBAL]) / len(single)
    print(f"\nbuilt-in engine on {len(CAPTIONS)} captions: {len(passed)} negatives passed, {len(rejected)} rejected; "
          f"exactly one attribute changed: {rate_all:.1%} of all, {rate_single:.1%} of attribute/atomic-phase negatives")
    assert len(passed) >= 5 * len(CAPTIONS)
    assert rate_single >= 0.9
    levels = {level_for(r.candidate.changes) for r in passed if r.candidate.phase == PHASE_GLOBAL}
    assert levels & {LEVEL_MEDIUM, LEVEL_EASY}


def test_a_shade_of_the_true_colour_is_not_a_negative_and_the_corrector_picks_another_colour():
    engine = BuiltinHardNegativeEngine()
    fact = "A crimson car parked behind a bus."
    candidate = Candidate(phase=PHASE_ATTRIBUTE, fact=fact, text="A red car parked behind a bus.",
                          changes=[Change(lex.COLOUR, "crimson", "red")], operation="replace_attribute",
                          meta={"placements": [[2, 9, lex.COLOUR, "crimson", "red"]]})
    verdict = engine.verify(positive=Positive(fact), candidate=candidate)
    assert not verdict.ok and verdict.reason == "shade"
    result = _run_loop(engine, Positive(fact), candidate)
    assert result.verdict.ok and result.rounds == 1
    target = result.candidate.changes[0].target
    assert lex.colour_family(target) not in (None, "red")
    assert [s["agent"] for s in result.steps] == ["generator", "verifier", "corrector", "verifier"]
    assert result.steps[2]["input"]["feedback"]["reason"] == "shade"


def test_plain_and_opaque_are_never_replaced_and_ambiguous_colours_are_not_origins():
    slots = find_slots("A plain shirt and an opaque vase next to a beige wall.", list(lex.DEFAULT_ATTRIBUTES))
    origins = {s.origin.lower() for s in slots}
    assert not origins & {"plain", "opaque", "beige"}
    verdict = BuiltinHardNegativeEngine().verify(
        positive=Positive("A plain shirt."),
        candidate=Candidate(PHASE_ATTRIBUTE, "A plain shirt.", "A striped shirt.", [Change(lex.PATTERN, "plain", "striped")]),
    )
    assert not verdict.ok and verdict.reason == "unset_origin"


def test_counts_change_by_one_and_the_corrector_repairs_number_agreement():
    engine = BuiltinHardNegativeEngine()
    fact = "Two dogs are sitting on the grass."
    jump = Candidate(PHASE_ATTRIBUTE, fact, "Four dogs are sitting on the grass.", [Change(lex.COUNT, "Two", "four")])
    assert engine.verify(positive=Positive(fact), candidate=jump).reason == "count_step"
    naive = Candidate(PHASE_ATTRIBUTE, fact, "One dogs are sitting on the grass.", [Change(lex.COUNT, "Two", "one")],
                      operation="change_count", meta={"placements": [[0, 3, lex.COUNT, "Two", "one"]]})
    verdict = engine.verify(positive=Positive(fact), candidate=naive)
    assert not verdict.ok and verdict.reason == "not_fluent"
    result = _run_loop(engine, Positive(fact), naive)
    assert result.verdict.ok and result.candidate.text == "One dog is sitting on the grass."


def test_relations_and_objects_swap_in_the_style_of_sugarcrepe():
    engine = BuiltinHardNegativeEngine()
    fact = "A cat on top of a table."
    made = engine.generate(positive=Positive(fact), fact=fact, phase=PHASE_ATTRIBUTE, attributes=[lex.SPATIAL], count=10, others=[])
    texts = {c.text for c in made}
    assert "A table on top of a cat." in texts and "A cat underneath a table." in texts
    swap = next(c for c in made if c.operation == "swap_relation")
    assert engine.verify(positive=Positive(fact), candidate=swap).ok


def test_a_negative_that_keeps_failing_is_rejected_at_the_bound():
    class Stubborn(BuiltinHardNegativeEngine):
        def correct(self, *, positive, candidate, verdict):
            return Candidate(candidate.phase, candidate.fact, candidate.text, candidate.changes, candidate.operation)

    fact = "A red bus."
    bad = Candidate(PHASE_ATTRIBUTE, fact, "A scarlet bus.", [Change(lex.COLOUR, "red", "scarlet")])
    result = _run_loop(Stubborn(), Positive(fact), bad)
    assert not result.verdict.ok and result.rounds == MAX_CORRECTION_ROUNDS
    assert [s["agent"] for s in result.steps].count("verifier") == MAX_CORRECTION_ROUNDS + 1


def test_the_changed_span_is_found_word_by_word():
    spans = change_spans("A red bus on the street.", "A blue bus on the street.")
    assert spans == [("A ", False), ("blue", True), (" bus on the street.", False)]
    assert fluency_problems("A apple on a table.") and not fluency_problems("An apple on a table.")
    assert re.search("orange", " ".join(s.origin for s in find_slots("An orange cat.", [lex.COLOUR])))
