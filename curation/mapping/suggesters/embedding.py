"""The text-model suggester: column names matched to roles by sentence embeddings (all-MiniLM-L6-v2).

It reads the same value facts as the rules (images, conversations) and differs in how it reads names:
by meaning, so 'user_query' is a question and 'reply' an answer though neither is in a lexicon.
A name that is not clearly closest to one role is left unassigned rather than guessed.
"""
import re

import numpy as np

from curation.engines.text_embedding import ENGINE_NAME, TextEmbeddingUnavailable, embed_texts
from curation.mapping.suggesters.base import SourceProfile, Suggestion, SuggestionFailed
from curation.mapping.suggesters.build import Match, build_suggestion
from curation.mapping.suggesters.structure import ColumnFacts

ROLE_PHRASES: dict[str, list[str]] = {
    "conversation": ["conversation messages", "dialogue turns"],
    "question": ["question", "the question asked about the image", "query or prompt"],
    "answer": ["answer", "the correct answer", "model response"],
    "options": ["multiple choice options", "answer choices"],
    "context": ["hint", "context"],
    "input": ["additional input for the instruction"],
    "captions": ["captions describing the image", "image captions"],
    "caption": ["image caption", "description of the image"],
    "ocr text": ["text written in the image", "ocr transcription"],
}
# Which roles a column may play, by what its values are.
ROLE_KINDS: dict[str, tuple[str, ...]] = {
    "conversation": ("conversation",),
    "question": ("text", "list_text"),
    "answer": ("text", "int", "float", "bool", "list_text", "list_dict", "list_int", "list_float"),
    "options": ("list_text", "list_int", "list_float"),
    "context": ("text",),
    "input": ("text",),
    "captions": ("list_text", "list_dict"),
    "caption": ("text",),
    "ocr text": ("text",),
}
# Below this cosine a name says nothing about a role; within MARGIN of another role it is ambiguous.
THRESHOLD = 0.5
MARGIN = 0.04


def _name_text(name: str) -> str:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return re.sub(r"[^A-Za-z0-9]+", " ", spaced).strip().lower() or name


class EmbeddingMatcher:
    engine = ENGINE_NAME

    def __init__(self) -> None:
        roles = list(ROLE_PHRASES)
        phrases = [p for r in roles for p in ROLE_PHRASES[r]]
        vectors = embed_texts(phrases)
        self.roles: dict[str, np.ndarray] = {}
        start = 0
        for role in roles:
            count = len(ROLE_PHRASES[role])
            self.roles[role] = vectors[start : start + count]
            start += count
        self._names: dict[str, np.ndarray] = {}

    def describe(self, role: str) -> str:
        phrases = "; ".join(ROLE_PHRASES.get(role, [role]))
        return f"no column name is closer than cosine {THRESHOLD} to '{phrases}' and clearly closer to it than to other roles"

    def _scores(self, facts: ColumnFacts) -> dict[str, float]:
        if facts.name not in self._names:
            self._names[facts.name] = embed_texts([_name_text(facts.name)])[0]
        vector = self._names[facts.name]
        eligible = [r for r, kinds in ROLE_KINDS.items() if facts.kind in kinds]
        return {r: float((self.roles[r] @ vector).max()) for r in eligible}

    def match(self, role: str, candidates: list[ColumnFacts]) -> Match | None:
        best: Match | None = None
        for facts in candidates:
            scores = self._scores(facts)
            if role not in scores:
                continue
            score = scores[role]
            others = [s for r, s in scores.items() if r != role]
            runner_up = max(others, default=0.0)
            if score < THRESHOLD or score - runner_up < MARGIN:
                continue
            if best is None or score > best.confidence:
                second = max(((s, r) for r, s in scores.items() if r != role), default=(0.0, "none"))
                why = (f"its name is closest in meaning to '{role}' (cosine {score:.2f}; next role "
                       f"'{second[1]}' at {second[0]:.2f})")
                best = Match(column=facts.name, confidence=round(score, 3), why=why)
        return best


class EmbeddingSuggester:
    name = "embedding"

    def available(self) -> bool:
        return True

    def suggest(self, profile: SourceProfile) -> Suggestion:
        try:
            return build_suggestion(profile, EmbeddingMatcher())
        except TextEmbeddingUnavailable as exc:
            raise SuggestionFailed(str(exc)) from exc
