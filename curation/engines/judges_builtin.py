"""The built-in judge: needs no weights beyond the bundled MiniLM, and rates only what it has evidence for.

- formatting: rules on the answer's text (empty, markup or template artefacts, repeated text, truncation,
  stray whitespace, casing), five levels;
- relevance: answer-type checks first (a count for "how many", yes/no for a yes/no question, a letter or
  an option when options are given), then the cosine of question and answer under all-MiniLM-L6-v2;
- visual dependency: how the question relies on the image (references to it, visual tasks such as reading,
  counting, colours, positions) against general-knowledge phrasings; a text-only sample scores 1;
- image-question correspondence: left empty; it needs a model that sees the image.
"""
import re

import numpy as np

from curation.engines.base import Availability
from curation.engines.judges import AxisRating, TurnToRate
from curation.engines.text_embedding import TextEmbedder, embed_texts

RULES_VERSION = "1"
# Texts whose embeddings a judge keeps between batches (questions repeat across a dataset); ~30 MB.
EMBEDDING_CACHE_SIZE = 20_000
# Cosine of question and answer (MiniLM) at or above which relevance reaches each level.
RELEVANCE_COSINE_LEVELS = ((0.45, 5), (0.30, 4), (0.18, 3), (0.08, 2))

_WORDS = re.compile(r"[A-Za-z0-9']+")
_MARKUP = re.compile(r"<\s*/?\s*(image|img|br|p|div|s|/s|unk|pad|eos|bos)\b[^>]*>|\[/?(INST|IMG)\]|<\|[^|]*\|>", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}|^(none|nan|null|n/a|undefined)$", re.IGNORECASE)
_YES_NO_START = re.compile(
    r"^(is|are|was|were|does|do|did|can|could|has|have|had|will|would|should|shall|may|might|am)\b", re.IGNORECASE
)
_OPTIONS = re.compile(r"(^|\n|\s)\(?([A-F])[).:]\s+\S", re.MULTILINE)
_HOW_MANY = re.compile(r"\bhow (many|much)\b|\bnumber of\b|\bcount\b", re.IGNORECASE)
_DESCRIBE = re.compile(
    r"^(please )?(describe|caption|summari[sz]e|what (is|are) (shown|in|happening|going on)|what does .* (show|depict)|"
    r"what can you see|tell me about)\b",
    re.IGNORECASE,
)
_COMPUTE = re.compile(r"^(solve|calculate|compute|evaluate|what is \d)|=\s*\?$", re.IGNORECASE)
_NUMBER_WORDS = {
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "none", "no",
}
_IMAGE_REFERENCE = re.compile(
    r"\b(image|picture|photo|photograph|figure|diagram|chart|graph|plot|table|screenshot|screen|map|illustration|"
    r"scene|shown|pictured|depicted|visible|displayed|seen|this|these|here)\b",
    re.IGNORECASE,
)
_VISUAL_TASK = re.compile(
    r"\b(colou?r|how many|count|left|right|top|bottom|above|below|behind|in front|next to|wearing|holding|"
    r"doing|read|written|say|says|text|label|title|caption|describe|where|located|position|shape|size|"
    r"look like|appear|bounding box|coordinates|sign|logo|brand|number on)\b",
    re.IGNORECASE,
)
_KNOWLEDGE = re.compile(
    r"^(who (wrote|invented|discovered|was the first)|what is the (capital|definition|meaning|formula)|define|"
    r"explain (why|how)|translate|solve|calculate|compute|what year|when did|write (a|an|the))\b",
    re.IGNORECASE,
)


def _words(text: str) -> list[str]:
    return _WORDS.findall(text.lower())


def formatting_rate(answer: str) -> AxisRating:
    text = answer or ""
    stripped = text.strip()
    if not stripped:
        return AxisRating(1, "empty answer")
    if _PLACEHOLDER.search(stripped) and len(stripped) < 40:
        return AxisRating(1, "the answer is a placeholder or a template field")
    problems: list[tuple[int, str]] = []
    if _MARKUP.search(text):
        problems.append((2, "markup or model tokens left in the answer"))
    words = _words(stripped)
    if len(words) >= 8:
        repeated = _repetition(words)
        if repeated > 0.3:
            problems.append((2, f"repeated text ({repeated:.0%} of its phrases recur)"))
    if stripped.count("(") != stripped.count(")") or stripped.count("[") != stripped.count("]"):
        problems.append((1, "unbalanced brackets"))
    sentence_like = len(words) >= 6
    if sentence_like and stripped[-1] not in ".!?)\"'”:;`*" and not stripped.endswith("```"):
        problems.append((1, "ends without closing punctuation (truncated?)"))
    if sentence_like and stripped[0].islower():
        problems.append((1, "starts in lower case"))
    if text != text.strip() or "  " in stripped.replace("\n", " ").replace("  \n", "\n") or "\n\n\n" in text:
        problems.append((1, "stray whitespace"))
    if len(stripped) > 12 and stripped.isupper():
        problems.append((1, "written in capitals"))
    if problems:
        penalty = sum(p for p, _ in problems)
        return AxisRating(max(1, 5 - penalty), "; ".join(reason for _, reason in problems))
    if not sentence_like:
        return AxisRating(4, "clean short answer")
    return AxisRating(5, "clean, complete sentences")


def _repetition(words: list[str]) -> float:
    """Share of the answer's three-word phrases that recur (degenerate, looping text)."""
    if len(words) < 8:
        return 0.0
    trigrams = [" ".join(words[i : i + 3]) for i in range(len(words) - 2)]
    return 1 - len(set(trigrams)) / len(trigrams)


def _expected_type(question: str) -> str:
    q = question.strip()
    if _OPTIONS.search(q) and len(_OPTIONS.findall(q)) >= 2:
        return "option"
    if _HOW_MANY.search(q):
        return "count"
    if _COMPUTE.search(q):
        return "number"
    if _DESCRIBE.match(q):
        return "description"
    last_sentence = re.split(r"(?<=[.!?])\s+", q)[-1] if q else ""
    if _YES_NO_START.match(last_sentence) and " or " not in last_sentence.lower():
        return "yes_no"
    return ""


def _answer_type_check(expected: str, answer: str) -> tuple[bool, str] | None:
    """(matches, why) for an answer whose type the question fixes; None when the question fixes none."""
    words = _words(answer)
    if not expected or not words:
        return None
    if expected == "count":
        ok = any(w.isdigit() or w in _NUMBER_WORDS for w in words)
        return ok, "a count was asked for" + ("" if ok else " and the answer gives none")
    if expected == "number":
        ok = any(any(c.isdigit() for c in w) for w in words)
        return ok, "a computation was asked for" + ("" if ok else " and the answer has no number")
    if expected == "description":
        ok = len(words) >= 4
        return ok, "a description was asked for" + (" and the answer describes" if ok else " and the answer is too short to be one")
    if expected == "yes_no":
        ok = words[0] in {"yes", "no", "yeah", "nope"} or (len(words) > 3 and not answer.strip().endswith("?"))
        return ok, "a yes/no question" + (" answered" if ok else " not answered yes or no")
    if expected == "option":
        first = answer.strip().strip("()").split()[0].strip(".):").upper() if answer.strip() else ""
        ok = len(first) == 1 and first in "ABCDEF" or len(words) > 1
        return ok, "a choice among options" + ("" if ok else " not answered with one")
    return None


def relevance_without_cosine(question: str, answer: str) -> AxisRating | None:
    """Relevance where the answer's type settles it (empty, placeholder, wrong or right type); None when
    it takes the question-answer similarity."""
    stripped = answer.strip()
    if not stripped:
        return AxisRating(1, "empty answer")
    if _PLACEHOLDER.search(stripped) and len(stripped) < 40:
        return AxisRating(1, "the answer is a placeholder, not an answer")
    words = _words(stripped)
    expected = _expected_type(question)
    check = _answer_type_check(expected, answer)
    if check is None:
        return None
    ok, why = check
    if not ok:
        return AxisRating(2, why)
    if expected == "description":
        return _looping(AxisRating(4, why), words)
    if len(words) <= 3:
        return AxisRating(5, f"{why} with the right type of answer")
    return None


def _looping(rating: AxisRating, words: list[str]) -> AxisRating:
    if _repetition(words) > 0.3 and rating.score is not None:
        return AxisRating(max(1, rating.score - 2), f"{rating.reason}; the answer loops on itself")
    return rating


def relevance_rate(question: str, answer: str, cosine: float | None) -> AxisRating:
    settled = relevance_without_cosine(question, answer)
    if settled is not None:
        return settled
    if cosine is None:
        raise ValueError("this answer's relevance needs the question-answer similarity")
    rating = next(
        (AxisRating(level, f"question-answer similarity {cosine:.2f}") for floor, level in RELEVANCE_COSINE_LEVELS if cosine >= floor),
        AxisRating(1, f"question-answer similarity {cosine:.2f}: the answer is off the question"),
    )
    return _looping(rating, _words(answer.strip()))


def visual_dependency_rate(question: str, image_count: int) -> AxisRating:
    if image_count == 0:
        return AxisRating(1, "text-only sample: nothing to look at")
    q = question.strip()
    if not q:
        return AxisRating(3, "no question text: the image is all there is")
    references = {m.lower() for m in _IMAGE_REFERENCE.findall(q)}
    tasks = {m.lower() for m in _VISUAL_TASK.findall(q)}
    knowledge = bool(_KNOWLEDGE.match(q))
    if knowledge and not references:
        return AxisRating(1, "a general-knowledge question; the image is not referred to")
    if references and tasks:
        return AxisRating(5, f"refers to the image ({', '.join(sorted(references))[:60]}) for a visual task ({', '.join(sorted(tasks))[:60]})")
    if tasks:
        return AxisRating(4, f"a visual task ({', '.join(sorted(tasks))[:80]})")
    if references:
        return AxisRating(3, f"refers to the image ({', '.join(sorted(references))[:80]})")
    if knowledge:
        return AxisRating(1, "a general-knowledge question")
    return AxisRating(2, "no reference to the image and no visual task in the question")


class BuiltinJudge:
    """Rules and the bundled MiniLM; image-question correspondence stays empty (no VLM here)."""

    name = "builtin-judge"
    version = f"rules {RULES_VERSION}, {TextEmbedder.name} {TextEmbedder.version}"
    needs_images = False

    def __init__(self) -> None:
        self._vectors: dict[str, np.ndarray] = {}

    def available(self) -> Availability:
        return TextEmbedder().available()

    def rate(self, turns: list[TurnToRate]) -> list[dict[str, AxisRating]]:
        settled = [relevance_without_cosine(turn.question, turn.answer) for turn in turns]
        # Only the turns whose relevance the answer's type does not settle are embedded.
        need = [turn for turn, rating in zip(turns, settled, strict=True) if rating is None]
        cosines = iter(self._cosines(need))
        out = []
        for turn, relevance in zip(turns, settled, strict=True):
            out.append(
                {
                    "formatting": formatting_rate(turn.answer),
                    "relevance": relevance or relevance_rate(turn.question, turn.answer, float(next(cosines))),
                    "visual_dependency": visual_dependency_rate(turn.question, turn.image_count),
                    "image_correspondence": AxisRating(None, "needs a vision-language judge; the built-in judge has no evidence"),
                }
            )
        return out

    def _cosines(self, turns: list[TurnToRate]) -> np.ndarray:
        if not turns:
            return np.zeros(0, dtype=np.float32)
        # Datasets repeat questions ("What is shown?") and answers ("Yes"): embed each distinct text once.
        texts = sorted({t.question.strip() for t in turns} | {t.answer.strip() for t in turns})
        missing = [text for text in texts if text not in self._vectors]
        fresh = dict(zip(missing, embed_texts(missing), strict=True)) if missing else {}
        for text, embedding in fresh.items():
            if len(self._vectors) >= EMBEDDING_CACHE_SIZE:
                break
            self._vectors[text] = embedding

        def vector(text: str) -> np.ndarray:
            found = self._vectors.get(text)
            return found if found is not None else fresh[text]

        questions = np.stack([vector(t.question.strip()) for t in turns])
        answers = np.stack([vector(t.answer.strip()) for t in turns])
        return np.einsum("ij,ij->i", questions, answers)
