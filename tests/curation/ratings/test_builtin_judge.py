"""The built-in judge on hand-made good and bad turns: it agrees with the hand ratings where it has
evidence, leaves image-question correspondence empty, and its agreement is reported (weighted kappa)."""
import pytest

from curation.engines.judges import TurnToRate
from curation.engines.judges_builtin import (
    BuiltinJudge,
    formatting_rate,
    relevance_rate,
    visual_dependency_rate,
)
from curation.services.ratings_report import weighted_kappa

# (question, answer, images, hand ratings: formatting, relevance, visual dependency)
HAND_RATED = [
    ("How many dogs are in the picture?", "There are three dogs.", 1, (5, 5, 5)),
    ("How many dogs are in the picture?", "3", 1, (4, 5, 5)),
    ("How many dogs are in the picture?", "The sky is blue and it is a nice day outside.", 1, (5, 2, 5)),
    ("What colour is the car on the left?", "The car on the left is red.", 1, (5, 5, 5)),
    ("What colour is the car on the left?", "", 1, (1, 1, 5)),
    ("Is the man holding an umbrella?", "Yes", 1, (4, 5, 5)),
    ("Is the man holding an umbrella?", "Bananas are a good source of potassium for athletes.", 1, (5, 2, 5)),
    ("What is written on the sign?", "The sign says STOP.", 1, (5, 5, 5)),
    ("What is written on the sign?", "the sign says stop and then the sign says stop and then the sign says stop and then the sign says stop", 1, (1, 3, 5)),
    ("Describe the image.", "<image> A kitchen with a table and two chairs.", 1, (3, 4, 4)),
    ("Describe the image.", "A busy street with cars, a bus and people crossing at the lights.", 1, (5, 4, 4)),
    ("Describe the image.", "a busy street with cars and a bus and people crossing at the", 1, (3, 4, 4)),
    ("Who wrote Pride and Prejudice?", "Jane Austen wrote Pride and Prejudice.", 1, (5, 5, 1)),
    ("What is the capital of France?", "Paris.", 1, (4, 5, 1)),
    ("Solve 12 * 7.", "84", 0, (4, 5, 1)),
    ("Which option is correct?\nA. A cat\nB. A dog\nC. A bird", "B", 1, (4, 5, 3)),
    ("Which option is correct?\nA. A cat\nB. A dog\nC. A bird", "none", 1, (1, 2, 3)),
    ("What is the person in this photo doing?", "The person is riding a bicycle along a river.", 1, (5, 5, 5)),
    ("What is the person in this photo doing?", "{answer}", 1, (1, 1, 5)),
    ("Where is the cat located in the image?", "The cat is sitting on the windowsill , next to a plant", 1, (3, 5, 5)),
    ("Explain why the sky is blue.", "Sunlight is scattered by the molecules of the air, and blue light is scattered most.", 0, (5, 5, 1)),
    ("What does the chart show?", "THE CHART SHOWS SALES GROWING EVERY YEAR.", 1, (4, 5, 4)),
]
AXES = ("formatting", "relevance", "visual_dependency")


def _rate_all() -> list[dict]:
    turns = [TurnToRate(question=q, answer=a, image_count=n) for q, a, n, _ in HAND_RATED]
    return BuiltinJudge().rate(turns)


def test_the_builtin_judge_agrees_with_hand_ratings_and_reports_it():
    results = _rate_all()
    report = {}
    for index, axis in enumerate(AXES):
        pairs = [(r[axis].score, hand[index]) for r, (_, _, _, hand) in zip(results, HAND_RATED, strict=True)]
        exact = sum(a == b for a, b in pairs) / len(pairs)
        within_one = sum(abs(a - b) <= 1 for a, b in pairs) / len(pairs)
        report[axis] = {"exact": round(exact, 2), "within_1": round(within_one, 2), "kappa_w": round(weighted_kappa(pairs), 2)}
    print(f"\nbuilt-in judge vs {len(HAND_RATED)} hand-rated turns: {report}")  # noqa: T201 (the figure the note reports)
    for axis in AXES:
        assert report[axis]["within_1"] >= 0.8, (axis, report[axis])
        assert report[axis]["kappa_w"] >= 0.5, (axis, report[axis])


def test_image_question_correspondence_is_left_empty_with_the_reason():
    results = _rate_all()
    assert {r["image_correspondence"].score for r in results} == {None}
    assert "vision-language" in results[0]["image_correspondence"].reason


def test_bad_turns_score_below_good_ones_on_each_axis():
    assert formatting_rate("").score == 1
    assert formatting_rate("A clean sentence that ends well.").score == 5
    assert formatting_rate("<image> A broken answer with tokens </s>").score <= 3
    assert relevance_rate("How many cats are there?", "Purple is a colour.", 0.05).score == 2
    assert relevance_rate("How many cats are there?", "Two.", 0.2).score == 5
    assert visual_dependency_rate("What colour is the shirt in the image?", 1).score == 5
    assert visual_dependency_rate("Who wrote Hamlet?", 1).score == 1
    assert visual_dependency_rate("What colour is the shirt?", 0).score == 1  # text-only: nothing to look at


@pytest.mark.parametrize("answer", ["Yes", "No, it is not."])
def test_yes_no_questions_answered_yes_or_no_are_relevant(answer):
    assert relevance_rate("Is there a dog?", answer, 0.1).score == 5 if len(answer.split()) <= 3 else 4
