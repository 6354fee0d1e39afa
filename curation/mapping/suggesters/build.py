"""From facts about the columns and a way of matching column names to roles, build a proposed spec.

The rule and text-model suggesters differ only in how they match names to roles (a lexicon, or
sentence embeddings); what a role means for the spec is decided here once.
"""
import re
from dataclasses import dataclass
from typing import Protocol

from curation.mapping.apply import image_refs
from curation.mapping.spec import (
    Answer,
    ConversationTurns,
    ImageField,
    IndexBase,
    Instructions,
    MappingSpec,
    Options,
    Pair,
    TemplateTurns,
    Turns,
)
from curation.mapping.suggesters.base import Reason, SourceProfile, Suggestion
from curation.mapping.suggesters.structure import ColumnFacts, column_facts
from curation.models import Subset

# Vision-Flan-style instruction templates: several per task, one chosen per row by a hash of source and row.
CAPTION_INSTRUCTIONS = (
    "Describe this image in one sentence.",
    "Write a short caption for the image.",
    "What does this picture show? Answer in one sentence.",
    "Give a brief description of the image.",
)
OCR_INSTRUCTIONS = (
    "Read all the text in the image.",
    "Transcribe the text shown in this image.",
    "What text is written in the image?",
    "Write out the text that appears in the image, exactly as shown.",
)
TEXT_KINDS = ("text",)
ANSWER_KINDS = ("text", "int", "float", "bool", "list_text", "list_dict", "list_int")
CAPTION_LIST_KEYS = ("raw", "caption", "text", "sentence")
# Words in a source's name that say which category it belongs to, checked in this order.
CATEGORY_HINTS = [
    (r"chart|table|plot|graph|figure|infographic", Subset.Category.CHART_TABLE),
    (r"screen|gui|\bui\b|web|mobile|android|agent", Subset.Category.GUI),
    (r"math|geo|algebra|arith", Subset.Category.MATH),
    (r"count|ground|refcoco|\bbox", Subset.Category.GROUNDING_COUNTING),
    (r"science|sqa|ai2d", Subset.Category.SCIENCE),
    (r"doc|ocr|text|receipt|scene.?text|invoice", Subset.Category.OCR_QA),
]
SCIENCE_COLUMNS = {"lecture", "solution", "subject", "topic", "grade", "skill"}


@dataclass(frozen=True)
class Match:
    column: str
    confidence: float
    why: str


class NameMatcher(Protocol):
    engine: str

    def match(self, role: str, candidates: list[ColumnFacts]) -> Match | None:
        """The column that plays `role`, or None when no candidate's name gives evidence for it."""
        ...

    def describe(self, role: str) -> str:
        """What names this matcher looks for, for the 'no evidence' reason."""
        ...


def subset_slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:200] or "subset"


def build_suggestion(profile: SourceProfile, matcher: NameMatcher) -> Suggestion:
    return _Builder(profile, matcher).build()


class _Builder:
    def __init__(self, profile: SourceProfile, matcher: NameMatcher) -> None:
        self.profile = profile
        self.matcher = matcher
        self.facts = column_facts(profile.columns, profile.rows)
        self.reasons: list[Reason] = []
        self.used: set[str] = set()

    def take(self, role: str, column: str, confidence: float, why: str) -> None:
        self.used.add(column)
        self.reasons.append(Reason(role=role, column=column, text=f"took column '{column}' as {role} because {why}",
                                   confidence=confidence))

    def missing(self, role: str, why: str) -> None:
        self.reasons.append(Reason(role=role, column=None, text=f"no evidence for {role}: {why}"))

    def note(self, text: str) -> None:
        self.reasons.append(Reason(role="note", column=None, text=text))

    def candidates(self, kinds: tuple[str, ...]) -> list[ColumnFacts]:
        return [f for f in self.facts.values() if f.kind in kinds and f.name not in self.used]

    def matched(self, role: str, kinds: tuple[str, ...]) -> Match | None:
        found = self.matcher.match(role, self.candidates(kinds))
        if found is not None:
            self.take(role, found.column, found.confidence, found.why)
        return found

    def build(self) -> Suggestion:
        images = self.images()
        turns, category = self.turns(has_images=bool(images))
        unused = [n for n, f in self.facts.items() if n not in self.used and f.kind != "empty"]
        if unused:
            self.note(f"columns not used: {', '.join(unused)}")
        spec = MappingSpec(subset_name=subset_slug(self.profile.name), category=category, images=tuple(images),
                           turns=turns)
        scores = [r.confidence for r in self.reasons if r.role != "note" and r.column is not None]
        missing = [r for r in self.reasons if r.column is None and r.role != "note"]
        confidence = 0.0 if missing or not scores else min(scores)
        return Suggestion(engine=self.matcher.engine, spec=spec, confidence=confidence, reasons=self.reasons)

    # --- images ---------------------------------------------------------------------------------------

    def images(self) -> list[ImageField]:
        out: list[ImageField] = []
        has_stored = any(f.kind in ("image", "image_list") or f.has_nested_images for f in self.facts.values())
        stored_columns = [f.name for f in self.facts.values() if f.kind in ("image", "image_list")]
        for facts in self.facts.values():
            share = f"{facts.present} of {facts.sampled} sampled rows"
            if has_stored and facts.kind in ("image_path", "image_path_list"):
                self.note(f"column '{facts.name}' holds image file names, but the images are already stored in "
                          "other columns, so it is taken as a name only")
                self.used.add(facts.name)
            elif facts.kind in ("image", "image_list"):
                what = "a stored image" if facts.kind == "image" else "a list of stored images"
                self.take("image", facts.name, 1.0, f"its values are {what} ({share})")
                out.append(ImageField(column=facts.name, kind="auto"))
            elif facts.kind in ("image_path", "image_path_list"):
                self.take("image", facts.name, 0.85, f"its values are file names of images ({share}), read relative "
                          "to the source's folder")
                out.append(ImageField(column=facts.name, kind="path"))
            elif facts.kind in ("image_bytes", "image_bytes_list"):
                self.take("image", facts.name, 0.85, f"its values are base64-encoded image bytes ({share})")
                out.append(ImageField(column=facts.name, kind="bytes"))
            elif facts.has_nested_images and facts.kind == "conversation" and self.repeats(facts.name, stored_columns):
                self.note(f"the images inside column '{facts.name}' are the ones column(s) "
                          f"{', '.join(repr(c) for c in stored_columns)} list for the same row (the messages only "
                          "mark where they go), so they are not taken twice")
            elif facts.has_nested_images and facts.kind == "conversation":
                self.reasons.append(Reason(role="image", column=facts.name, confidence=1.0,
                                           text=f"took the images inside column '{facts.name}' because its messages "
                                           "hold stored images"))
                out.append(ImageField(column=facts.name, kind="auto"))
        if not out:
            self.note(f"no column holds images in {len(self.profile.rows)} sampled rows (no stored image, "
                      "image file name or image bytes), so samples are text-only")
        return out

    def repeats(self, column: str, image_columns: list[str]) -> bool:
        """Whether, in every sampled row, the images inside `column` are among those the image columns hold."""
        if not image_columns:
            return False
        for row in self.profile.rows:
            listed = {sha for name in image_columns for sha in image_refs(row.get(name))}
            if not set(image_refs(row.get(column))) <= listed:
                return False
        return True

    # --- turns ----------------------------------------------------------------------------------------

    def turns(self, *, has_images: bool) -> tuple[Turns, str]:
        conversations = [f for f in self.facts.values() if f.kind == "conversation"]
        if conversations:
            chosen = conversations[0]
            if len(conversations) > 1:
                found = self.matcher.match("conversation", conversations)
                chosen = self.facts[found.column] if found else chosen
            self.take("conversation", chosen.name, 0.95,
                      f"its values are lists of {chosen.style_text} ({chosen.present} of {chosen.sampled} sampled rows)")
            turns = ConversationTurns(column=chosen.name, style=chosen.style)
            return turns, self.category(has_images=has_images, default=Subset.Category.GENERAL_VQA)
        qa = self.qa_list()
        if qa is not None:
            return qa, self.category(has_images=has_images, default=Subset.Category.GENERAL_VQA)
        question = self.matched("question", TEXT_KINDS + ("list_text",))
        if question is not None:
            return self.question_answer(question, has_images=has_images)
        if has_images:
            described = self.described()
            if described is not None:
                return described
        self.missing("question", f"no text column is named like a question ({self.matcher.describe('question')})")
        answer = self.matched("answer", ANSWER_KINDS)
        if answer is None:
            self.missing("answer", f"no column is named like an answer ({self.matcher.describe('answer')})")
        pair = Pair(user="", assistant=f"{{{answer.column}}}" if answer else "")
        return TemplateTurns(pairs=(pair,)), self.category(has_images=has_images, default=Subset.Category.GENERAL_VQA)

    def qa_list(self) -> TemplateTurns | None:
        """A column of {question, answer} objects: several QA pairs per row, one turn each."""
        for facts in self.candidates(("list_dict",)):
            keys = sorted(facts.dict_keys)
            key_facts = [ColumnFacts(name=k, declared_type="", kind="text", present=1, sampled=1) for k in keys]
            q = self.matcher.match("question", key_facts)
            a = self.matcher.match("answer", [k for k in key_facts if not q or k.name != q.column])
            if q and a:
                self.take("question", f"{facts.name}.{q.column}", min(q.confidence, 0.9),
                          f"column '{facts.name}' holds lists of objects whose key '{q.column}' {q.why}")
                self.take("answer", f"{facts.name}.{a.column}", min(a.confidence, 0.9),
                          f"column '{facts.name}' holds lists of objects whose key '{a.column}' {a.why}")
                self.used.add(facts.name)
                pair = Pair(user=f"{{{facts.name}.{q.column}}}", assistant=f"{{{facts.name}.{a.column}}}")
                return TemplateTurns(pairs=(pair,), each=(facts.name,))
        return None

    def question_answer(self, question: Match, *, has_images: bool) -> tuple[TemplateTurns, str]:
        q_facts = self.facts[question.column]
        if q_facts.kind == "list_text":
            return self.question_lists(question, has_images=has_images)
        answer = self.matched("answer", ANSWER_KINDS)
        options = self.matched("options", ("list_text", "list_int", "list_float"))
        context = self.matched("context", TEXT_KINDS)
        extra_input = self.matched("input", TEXT_KINDS)
        user = f"{{{question.column}}}"
        if context is not None:
            user = f"[[Context: {{{context.column}}}\n]]{user}"
        if extra_input is not None:
            user = f"{user}[[\n\n{{{extra_input.column}}}]]"
        if options is not None:
            user = f"{user}\n{{options}}"
        read_as: Answer | None = None
        assistant = ""
        if answer is None:
            self.missing("answer", f"no column is named like an answer ({self.matcher.describe('answer')})")
        else:
            read_as = self.answer_config(self.facts[answer.column], has_options=options is not None)
            assistant = f"{{{answer.column}}}" if read_as is None else "{answer}"
        turns = TemplateTurns(pairs=(Pair(user=user, assistant=assistant),),
                              options=Options(column=options.column) if options else None, answer=read_as)
        science = bool(options) and (context is not None or bool(SCIENCE_COLUMNS & set(self.facts)))
        default = Subset.Category.SCIENCE if science else Subset.Category.GENERAL_VQA
        if science:
            self.note("category science: multiple-choice questions with a hint or lecture/subject columns "
                      "(as in ScienceQA)")
        return turns, self.category(has_images=has_images, default=default)

    def question_lists(self, question: Match, *, has_images: bool) -> tuple[TemplateTurns, str]:
        """Parallel lists of questions and answers in one row: one turn per pair."""
        answer = self.matched("answer", ("list_text", "list_int", "list_float"))
        pair = Pair(user=f"{{{question.column}}}", assistant=f"{{{answer.column}}}" if answer else "")
        if answer is None:
            self.missing("answer", "no column holding a list of answers beside the list of questions "
                         f"({self.matcher.describe('answer')})")
        each = (question.column, *([answer.column] if answer else []))
        return TemplateTurns(pairs=(pair,), each=each), self.category(has_images=has_images, default=Subset.Category.GENERAL_VQA)

    def answer_config(self, facts: ColumnFacts, *, has_options: bool) -> Answer | None:
        """How to read the answer: by index or letter into the options, by majority of a list, or as text."""
        values = [row.get(facts.name) for row in self.profile.rows]
        if facts.kind in ("list_text", "list_dict"):
            self.note(f"answer '{facts.name}' holds a list of annotators' answers: the most frequent one is used")
            return Answer(column=facts.name, by="majority")
        if not has_options:
            return None
        if facts.kind == "int":
            ints = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
            base: IndexBase = 0
            if ints and min(ints) >= 1 and 0 not in ints:
                base = 1
                self.note(f"answer '{facts.name}' never is 0 in the sample, so it is read as counting from 1")
            self.note(f"answer '{facts.name}' is a number, read as the index of the right option")
            return Answer(column=facts.name, by="index", format="letter_text", index_base=base)
        if facts.single_letters:
            self.note(f"answer '{facts.name}' holds single letters, read as the letter of the right option")
            return Answer(column=facts.name, by="letter", format="letter_text")
        return Answer(column=facts.name, by="text", format="letter_text")

    def described(self) -> tuple[TemplateTurns, str] | None:
        """Rows that only describe their image: captions (one or several) or the text read from it (OCR)."""
        captions = self.matched("captions", ("list_text", "list_dict"))
        if captions is not None:
            facts = self.facts[captions.column]
            target = captions.column
            if facts.kind == "list_dict":
                key = next((k for k in CAPTION_LIST_KEYS if k in facts.dict_keys), None)
                if key is None:
                    self.missing("caption text", f"the objects in '{captions.column}' have none of the keys "
                                 f"{', '.join(CAPTION_LIST_KEYS)}")
                    key = "?"
                target = f"{captions.column}.{key}"
            self.note(f"each of the ~{facts.avg_items:.0f} captions of an image becomes one turn, asked with an "
                      "instruction chosen per row and turn")
            turns = TemplateTurns(pairs=(Pair(user="{instruction}", assistant=f"{{{target}}}"),),
                                  each=(captions.column,), instructions=Instructions(templates=CAPTION_INSTRUCTIONS))
            return turns, Subset.Category.CAPTIONING
        caption = self.matched("caption", TEXT_KINDS)
        if caption is not None:
            turns = TemplateTurns(pairs=(Pair(user="{instruction}", assistant=f"{{{caption.column}}}"),),
                                  instructions=Instructions(templates=CAPTION_INSTRUCTIONS))
            return turns, Subset.Category.CAPTIONING
        ocr = self.matched("ocr text", TEXT_KINDS)
        if ocr is not None:
            turns = TemplateTurns(pairs=(Pair(user="{instruction}", assistant=f"{{{ocr.column}}}"),),
                                  instructions=Instructions(templates=OCR_INSTRUCTIONS))
            return turns, Subset.Category.OCR
        return None

    def category(self, *, has_images: bool, default: str) -> str:
        if not has_images:
            self.note("category text-only: the rows have no images")
            return Subset.Category.TEXT_ONLY
        name = self.profile.name.lower()
        for pattern, category in CATEGORY_HINTS:
            if default == Subset.Category.GENERAL_VQA and re.search(pattern, name):
                self.note(f"category {category.label}: the source's name matches '{pattern}'")
                return category
        return default
