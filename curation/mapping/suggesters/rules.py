"""The rule suggester: value facts for images and conversations, a lexicon of names for the other roles."""
import re

from curation.mapping.suggesters.base import SourceProfile, Suggestion
from curation.mapping.suggesters.build import Match, build_suggestion
from curation.mapping.suggesters.structure import ColumnFacts

# Names per role, most telling first: an exact name beats a name that merely contains one of the words.
LEXICON: dict[str, list[str]] = {
    "conversation": ["conversations", "conversation", "messages", "texts", "dialog", "dialogue", "chat", "turns"],
    "question": ["question", "questions", "query", "prompt", "instruction", "problem", "q", "user", "input"],
    "answer": [
        "answer", "answers_text", "multiple_choice_answer", "answers", "output", "response", "label", "target",
        "gt_answer", "ground_truth", "completion", "a", "assistant", "solution_answer",
    ],
    "options": ["choices", "options", "candidates", "answer_choices", "choice_list", "option_list"],
    "context": ["hint", "context", "passage", "background"],
    "input": ["input"],
    "captions": ["captions", "sentences", "caption", "descriptions", "texts", "references", "refs"],
    "caption": ["caption", "description", "alt_text", "alt", "sentence", "title"],
    "ocr text": ["text", "ocr", "ocr_text", "transcription", "ground_truth", "gt_text", "content", "words"],
}
EXACT_CONFIDENCE = 0.9
WORD_CONFIDENCE = 0.7


def _words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1_\2", name)
    return [w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w]


class LexiconMatcher:
    engine = "rules"

    def describe(self, role: str) -> str:
        return ", ".join(LEXICON.get(role, [])[:6]) + ", ..."

    def match(self, role: str, candidates: list[ColumnFacts]) -> Match | None:
        names = LEXICON.get(role, [])
        best: tuple[int, int, ColumnFacts, str] | None = None
        for facts in candidates:
            key = facts.name.lower()
            words = _words(facts.name)
            for rank, word in enumerate(names):
                if key == word:
                    score = (0, rank)
                    why = f"its name is '{word}'"
                elif len(word) > 2 and word in words and not _is_identifier(words):
                    score = (1, rank)
                    why = f"its name contains the word '{word}'"
                else:
                    continue
                if best is None or score < best[:2]:
                    best = (*score, facts, why)
        if best is None:
            return None
        exact, _, facts, why = best
        confidence = EXACT_CONFIDENCE if exact == 0 else WORD_CONFIDENCE
        return Match(column=facts.name, confidence=confidence, why=f"{why}{_filled(facts)}")


def _is_identifier(words: list[str]) -> bool:
    # "question_id", "answer_type": bookkeeping columns, not the text of the role.
    return words[-1] in {"id", "ids", "type", "types", "idx", "index", "count", "len", "length", "source"}


def _filled(facts: ColumnFacts) -> str:
    if facts.sampled and facts.present < facts.sampled:
        return f" (filled in {facts.present} of {facts.sampled} sampled rows)"
    return ""


class RuleSuggester:
    name = "rules"

    def available(self) -> bool:
        return True

    def suggest(self, profile: SourceProfile) -> Suggestion:
        return build_suggestion(profile, LexiconMatcher())
