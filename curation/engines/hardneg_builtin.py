"""The built-in hard-negative engine: attribute-lexicon swaps, a rule verifier and a rule corrector; no weights.

Generator (FG-OVD / NegCLIP / SugarCrepe operations): replace an attribute, replace an object, swap two
attributes, swap the objects of a spatial relation, change a count by one, use another image's caption.
It proposes naively (any other lexicon value, no grammar repair), so the verifier has real work: same
attribute type, target differs from origin, origin present in the positive, a meaningful change (not a
shade or synonym, counts by exactly one), only the recorded places changed, and no new fluency error.
The corrector acts on the verifier's reason (picks a target of another class, repairs articles and number).
It cannot see the image: every verdict records that the visual check is the reviewer's.
"""
import hashlib
import re
from dataclasses import dataclass
from itertools import combinations

from curation.engines import hardneg_lexicon as lex
from curation.engines.base import Availability
from curation.engines.hardneg import (
    PHASE_ATOMIC,
    PHASE_ATTRIBUTE,
    PHASE_GLOBAL,
    VISUAL_BY_REVIEWER,
    AgentVerdict,
    Candidate,
    Change,
    Positive,
    changed_regions,
)

WORD = re.compile(r"[A-Za-z][A-Za-z\-']*|\d+")
QUOTED = re.compile(r"\"([^\"]{1,40})\"|“([^”]{1,40})”|'([A-Z0-9][^']{0,39})'")
FACT_SPLIT = re.compile(r",\s+|;\s+|\s+and\s+|\s+while\s+|\s+with\s+", re.IGNORECASE)
# An adjective attribute needs the noun it describes after it ("a glass of water" is not a material).
NOT_A_NOUN = frozenset({"and", "or", "is", "are", "was", "with", "in", "on", "at", "of", "to", "for", "by", "from", "the", "a", "an"})
ADJECTIVE_ATTRIBUTES = (lex.COLOUR, lex.MATERIAL, lex.PATTERN, lex.TRANSPARENCY, lex.SIZE, lex.SHAPE)
# Values the lexicon knows (so a target of theirs is a paraphrase) that are too ambiguous to start from.
NEVER_ORIGIN = frozenset({"clear", "wood", "whole", "moving", "over", "light"})
# Asymmetric relations only: swapping the objects around "next to" says the same thing.
RELATION_SWAP = re.compile(
    r"\b(?P<d1>the|a|an) (?P<n1>[a-z]+) (?P<rel>on top of|in front of|underneath|under|above|below|behind|inside|on) "
    r"(?P<d2>the|a|an) (?P<n2>[a-z]+)\b",
    re.IGNORECASE,
)
RELATION_NOUNS = frozenset(lex.OBJECT_FORMS) | frozenset(
    {"table", "counter", "shelf", "box", "tree", "wall", "floor", "rock", "towel", "blanket", "pillow", "sofa", "laptop",
     "book", "tray", "car", "roof", "bag", "suitcase", "tv", "refrigerator", "sink", "toilet", "sign", "pole", "fence"}
)
VOWEL_SOUND_EXCEPTIONS_AN = ("hour", "honest", "honor", "heir")
VOWEL_SOUND_EXCEPTIONS_A = ("one", "uni", "use", "usu", "eu", "ur")
MAX_COMBINED = 3


def _stable(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:4], "big")


def _words(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group(0)) for m in WORD.finditer(text)]


def _match_case(target: str, origin: str) -> str:
    if len(origin) > 1 and origin.isupper() and not origin.isdigit():
        return target.upper()
    if origin[:1].isupper() and target:
        return target[0].upper() + target[1:]
    return target


def _number(word: str) -> int | None:
    low = word.lower()
    if low in ("a", "an"):
        return 1
    if low in lex.NUMBER_WORDS:
        return lex.NUMBER_WORDS.index(low)
    if low.isdigit() and len(low) <= 3:
        return int(low)
    return None


@dataclass(frozen=True)
class Slot:
    """A place in the text where an attribute value sits: what a change replaces."""

    attribute: str
    start: int
    end: int
    origin: str


def find_slots(fact: str, attributes: list[str]) -> list[Slot]:
    """Every place in `fact` an attribute of `attributes` can be changed, in text order."""
    wanted = set(attributes)
    slots: list[Slot] = []
    words = _words(fact)
    taken: set[int] = set()

    def add(attribute: str, start: int, end: int) -> None:
        if any(i in taken for i in range(start, end)):
            return
        taken.update(range(start, end))
        slots.append(Slot(attribute, start, end, fact[start:end]))

    if lex.TEXT in wanted:
        for m in QUOTED.finditer(fact):
            group = next(g for g in (1, 2, 3) if m.group(g) is not None)
            add(lex.TEXT, m.start(group), m.end(group))
    if lex.SPATIAL in wanted:
        for phrase in sorted(lex.OPPOSITES[lex.SPATIAL], key=len, reverse=True):
            for m in re.finditer(rf"\b{re.escape(phrase)}\b", fact, re.IGNORECASE):
                add(lex.SPATIAL, m.start(), m.end())
    if lex.OBJECT in wanted:
        for phrase in sorted((p for p in lex.OBJECT_FORMS if " " in p), key=len, reverse=True):
            for m in re.finditer(rf"\b{re.escape(phrase)}\b", fact, re.IGNORECASE):
                add(lex.OBJECT, m.start(), m.end())
    for index, (start, end, word) in enumerate(words):
        low = word.lower()
        following = words[index + 1][2].lower() if index + 1 < len(words) else ""
        if low in lex.UNSET_VALUES or low in NEVER_ORIGIN:
            continue
        if lex.COUNT in wanted and _number(low) is not None and following:
            is_article = low in ("a", "an")
            if not is_article or following in lex.OBJECT_FORMS:
                if following not in NOT_A_NOUN:
                    add(lex.COUNT, start, end)
                    continue
        for attribute in ADJECTIVE_ATTRIBUTES:
            if attribute not in wanted or lex.value_class(attribute, low) is None:
                continue
            if attribute == lex.COLOUR and low in lex.AMBIGUOUS_COLOURS:
                continue
            if following and following not in NOT_A_NOUN:
                add(attribute, start, end)
            break
        else:
            if lex.STATE in wanted and low in lex.OPPOSITES[lex.STATE]:
                add(lex.STATE, start, end)
            elif lex.ACTION in wanted and low in lex.OPPOSITES[lex.ACTION]:
                add(lex.ACTION, start, end)
            elif lex.OBJECT in wanted and low in lex.OBJECT_FORMS:
                add(lex.OBJECT, start, end)
    return sorted(slots, key=lambda s: s.start)


def target_options(attribute: str, origin: str, *, strict: bool) -> list[str]:
    """Values a change of `origin` may say. strict=False is the generator's naive pool (any other value of
    the attribute, shades and synonyms included); strict=True keeps only values of another class."""
    low = origin.lower()
    if strict and attribute in (lex.STATE, lex.ACTION, lex.SPATIAL):
        return list(lex.OPPOSITES[attribute].get(low, ()))
    if attribute in lex.CLASSES:
        own = lex.value_class(attribute, low) or (low,)
        # Other classes by their plain name (a caption says "blue", not "cobalt"); the naive pool also holds
        # the origin's own synonyms and shades, which the verifier refuses.
        others = [values[0] for values in lex.CLASSES[attribute] if values is not own and low not in values]
        pool = others if strict else [*(v for v in own if v != low), *others]
        if attribute == lex.COLOUR:
            pool = [v for v in pool if v not in lex.AMBIGUOUS_COLOURS]
        return [v for v in pool if v != low]
    if attribute in (lex.ACTION, lex.SPATIAL):
        return list(lex.OPPOSITES[attribute].get(low, ()))
    if attribute == lex.OBJECT:
        found = lex.OBJECT_FORMS.get(low)
        if found is None:
            return []
        form, plural = found
        category = lex.OBJECT_CATEGORIES[form.category]
        return [p if plural else s for s, p in category if s != form.singular]
    if attribute == lex.COUNT:
        n = _number(low)
        if n is None:
            return []
        steps = [n + 1, n - 1] if n >= 2 else [n + 1]
        words = [lex.NUMBER_WORDS[s] if low.isalpha() and s < len(lex.NUMBER_WORDS) else str(s) for s in steps]
        if not strict:
            # The naive pool also holds a jump of two, which the verifier refuses (counts change by one).
            words.append(lex.NUMBER_WORDS[n + 2] if low.isalpha() and n + 2 < len(lex.NUMBER_WORDS) else str(n + 2))
        return words
    if attribute == lex.TEXT:
        return [w for w in lex.SIGN_WORDS if not strict or w.lower() != low]
    return []


def _apply(fact: str, placements: list[list]) -> str:
    text = fact
    for start, end, _attribute, origin, target in sorted(placements, key=lambda p: p[0], reverse=True):
        text = text[:start] + _match_case(target, origin) + text[end:]
    return text


def _article_for(word: str) -> str:
    low = word.lower()
    if low.startswith(VOWEL_SOUND_EXCEPTIONS_AN):
        return "an"
    if low.startswith(VOWEL_SOUND_EXCEPTIONS_A):
        return "a"
    return "an" if low[:1] in "aeiou" else "a"


def fluency_problems(text: str) -> list[str]:
    """Grammar slips a word swap makes: repeated words, a/an, and number agreement of known nouns."""
    problems = []
    words = _words(text)
    for (_, _, a), (_, _, b) in zip(words, words[1:], strict=False):
        if a.lower() == b.lower() and a.isalpha():
            problems.append(f"repeated word '{a}'")
    for index, (_, _, word) in enumerate(words[:-1]):
        low = word.lower()
        following = words[index + 1][2]
        if low in ("a", "an") and _article_for(following) != low:
            problems.append(f"'{word} {following}' should be '{_article_for(following)} {following}'")
        n = _number(low)
        noun = following.lower()
        if n is not None and noun in lex.OBJECT_FORMS:
            form, plural = lex.OBJECT_FORMS[noun]
            if form.singular != form.plural and (n == 1) == plural:
                problems.append(f"'{word} {following}': number does not agree")
            elif index + 2 < len(words):
                verb = words[index + 2][2].lower()
                if form.singular != form.plural and ((verb == "is" and n != 1) or (verb == "are" and n == 1)):
                    problems.append(f"'{following} {words[index + 2][2]}': verb does not agree")
    return problems


def fluency_fix(text: str) -> str:
    """Repair what fluency_problems finds in a swapped caption: a/an, noun number after a count, is/are."""
    words = _words(text)
    edits: list[tuple[int, int, str]] = []
    for index, (start, end, word) in enumerate(words[:-1]):
        low = word.lower()
        nxt_start, nxt_end, following = words[index + 1]
        if low in ("a", "an") and _article_for(following) != low:
            edits.append((start, end, _match_case(_article_for(following), word)))
        n = _number(low)
        noun = following.lower()
        if n is not None and noun in lex.OBJECT_FORMS:
            form, plural = lex.OBJECT_FORMS[noun]
            if form.singular != form.plural and (n == 1) == plural:
                edits.append((nxt_start, nxt_end, _match_case(form.singular if n == 1 else form.plural, following)))
            if index + 2 < len(words):
                v_start, v_end, verb = words[index + 2]
                if verb.lower() == "is" and n != 1:
                    edits.append((v_start, v_end, "are"))
                elif verb.lower() == "are" and n == 1:
                    edits.append((v_start, v_end, "is"))
        if re.fullmatch(r"[A-Za-z]+", word) and low == following.lower():
            edits.append((start, nxt_start, ""))
    for start, end, replacement in sorted(set(edits), reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _contains(text: str, phrase: str) -> bool:
    return bool(phrase) and re.search(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", text, re.IGNORECASE) is not None


def _target_in(text: str, target: str) -> bool:
    """The target is in the text, counting the number-agreement repair of a noun (horse -> horses)."""
    low = target.lower()
    forms = {low, lex.PLURAL_OF.get(low, low), lex.SINGULAR_OF.get(low, low)}
    return any(_contains(text, form) for form in forms)


def change_problem(change: Change, fact: str, operation: str) -> tuple[str, str] | None:
    """Why one change is not a valid negative (reason code, words), or None when it is."""
    origin, target, attribute = change.origin.strip(), change.target.strip(), change.attribute
    if attribute not in lex.ATTRIBUTE_KEYS:
        return "unknown_attribute", f"'{attribute}' is not an attribute this engine knows"
    if not target or target.lower() == origin.lower():
        return "same_as_origin", f"the target '{target}' is the origin '{origin}'"
    if attribute == lex.CAPTION:
        return None
    if not _contains(fact, origin):
        return "origin_missing", f"'{origin}' is not in the positive"
    low_o, low_t = origin.lower(), target.lower()
    if low_o in lex.UNSET_VALUES:
        return "unset_origin", f"'{origin}' means the {attribute} is not set; it is never replaced"
    if operation == "swap_relation" or operation == "swap_attributes":
        return None
    if attribute == lex.TEXT:
        return None
    kind = lex.attribute_of(low_t)
    if attribute == lex.ACTION:
        known = set(lex.OPPOSITES[lex.ACTION]) | {v for vs in lex.OPPOSITES[lex.ACTION].values() for v in vs}
        if low_t not in known:
            return "wrong_attribute_type", f"'{target}' is not an action"
    elif attribute == lex.SPATIAL:
        known = set(lex.OPPOSITES[lex.SPATIAL]) | {v for vs in lex.OPPOSITES[lex.SPATIAL].values() for v in vs}
        if low_t not in known:
            return "wrong_attribute_type", f"'{target}' is not a spatial relation"
    elif attribute == lex.COUNT:
        if _number(low_t) is None:
            return "wrong_attribute_type", f"'{target}' is not a count"
    elif kind != attribute and lex.value_class(attribute, low_t) is None:
        return "wrong_attribute_type", f"'{target}' is not a {attribute} (it reads as {kind or 'no known attribute'})"
    if attribute == lex.COLOUR and (low_t in lex.AMBIGUOUS_COLOURS or low_o in lex.AMBIGUOUS_COLOURS):
        return "ambiguous_colour", f"'{origin}' -> '{target}': an ambiguous colour is not a negative"
    own = lex.value_class(attribute, low_o)
    if own is not None and low_t in own:
        if attribute == lex.COLOUR:
            return "shade", f"'{target}' is a shade of the true colour '{origin}', not a contradiction"
        return "paraphrase", f"'{target}' means the same as '{origin}'"
    if attribute in (lex.STATE, lex.ACTION, lex.SPATIAL) and low_o in lex.OPPOSITES[attribute]:
        if low_t not in lex.OPPOSITES[attribute][low_o]:
            return "not_contradictory", f"'{target}' does not contradict '{origin}' (both can be true)"
    if attribute == lex.COUNT:
        a, b = _number(low_o), _number(low_t)
        if a is None or b is None or abs(a - b) != 1:
            return "count_step", f"a count changes by one: '{origin}' -> '{target}'"
    return None


def _count_beside_object(group: tuple[Slot, ...], fact: str) -> bool:
    """A count and the noun it counts change together (number agreement), so they are not two changes."""
    counts = [s for s in group if s.attribute == lex.COUNT]
    return any(0 <= o.start - c.end <= 1 for c in counts for o in group if o.attribute == lex.OBJECT)


class BuiltinHardNegativeEngine:
    """Lexicon generator, rule verifier, rule corrector (the engine protocol in curation/engines/hardneg.py)."""

    name = "builtin-lexicon"
    version = "1"
    sees_image = False

    def available(self) -> Availability:
        return Availability(True)

    # --- phase 3: atomic sub-facts ---

    def facts(self, positive: Positive) -> list[str]:
        parts = [p.strip(" .") for p in FACT_SPLIT.split(positive.text.strip())]
        parts = [p for p in parts if len(p.split()) >= 2]
        return parts if len(parts) >= 2 else []

    # --- generator ---

    def generate(self, *, positive: Positive, fact: str, phase: str, attributes: list[str], count: int,
                 others: list[str]) -> list[Candidate]:
        if count <= 0:
            return []
        if phase == PHASE_GLOBAL:
            return self._combined(fact, attributes, count, others)
        return self._single(fact, phase, attributes, count)

    def _naive_target(self, fact: str, slot: Slot) -> str | None:
        options = target_options(slot.attribute, slot.origin, strict=False)
        if not options:
            return None
        return options[_stable(fact, slot.start, slot.attribute) % len(options)]

    def _candidate(self, fact: str, phase: str, slots: list[Slot], operation: str) -> Candidate | None:
        placements: list[list] = []
        for slot in slots:
            target = self._naive_target(fact, slot)
            if target is None:
                return None
            placements.append([slot.start, slot.end, slot.attribute, slot.origin, target])
        changes = [Change(str(p[2]), str(p[3]), str(p[4])) for p in placements]
        return Candidate(phase=phase, fact=fact, text=_apply(fact, placements), changes=changes, operation=operation,
                         meta={"placements": placements})

    def _single(self, fact: str, phase: str, attributes: list[str], count: int) -> list[Candidate]:
        by_attribute: dict[str, list[Candidate]] = {}
        for slot in find_slots(fact, attributes):
            operation = {"object": "replace_object", "count": "change_count"}.get(slot.attribute, "replace_attribute")
            candidate = self._candidate(fact, phase, [slot], operation)
            if candidate is not None:
                by_attribute.setdefault(slot.attribute, []).append(candidate)
        for candidate in self._swaps(fact, phase, attributes):
            by_attribute.setdefault(candidate.attribute, []).append(candidate)
        # Round-robin over attributes, so a ratio of 10 spreads over what the caption offers.
        out: list[Candidate] = []
        queues = [list(v) for v in by_attribute.values()]
        while queues and len(out) < count:
            for queue in queues:
                if queue and len(out) < count:
                    out.append(queue.pop(0))
            queues = [q for q in queues if q]
        return out

    def _swaps(self, fact: str, phase: str, attributes: list[str]) -> list[Candidate]:
        out = []
        if lex.SPATIAL in attributes:
            for m in RELATION_SWAP.finditer(fact):
                n1, n2 = m.group("n1"), m.group("n2")
                if n1.lower() == n2.lower() or n1.lower() not in RELATION_NOUNS or n2.lower() not in RELATION_NOUNS:
                    continue
                origin = m.group(0)
                target = f"{m.group('d1')} {n2} {m.group('rel')} {m.group('d2')} {n1}"
                placements = [[m.start(), m.end(), lex.SPATIAL, origin, target]]
                out.append(Candidate(phase=phase, fact=fact, text=_apply(fact, placements),
                                     changes=[Change(lex.SPATIAL, origin, target)], operation="swap_relation",
                                     meta={"placements": placements}))
        for attribute in (lex.COLOUR, lex.MATERIAL, lex.PATTERN, lex.SIZE):
            if attribute not in attributes:
                continue
            slots = [s for s in find_slots(fact, [attribute]) if s.attribute == attribute]
            for a, b in combinations(slots, 2):
                if lex.value_class(attribute, a.origin.lower()) == lex.value_class(attribute, b.origin.lower()):
                    continue
                placements = [[a.start, a.end, attribute, a.origin, b.origin.lower()],
                              [b.start, b.end, attribute, b.origin, a.origin.lower()]]
                out.append(Candidate(phase=phase, fact=fact, text=_apply(fact, placements),
                                     changes=[Change(attribute, a.origin, b.origin.lower()), Change(attribute, b.origin, a.origin.lower())],
                                     operation="swap_attributes", meta={"placements": placements}))
                break
        return out

    def _combined(self, fact: str, attributes: list[str], count: int, others: list[str]) -> list[Candidate]:
        """Global-description negatives: two or three attributes changed at once (FG-OVD medium / easy)."""
        first_of_each: dict[str, Slot] = {}
        for slot in find_slots(fact, [a for a in attributes if a != lex.CAPTION]):
            first_of_each.setdefault(slot.attribute, slot)
        slots = list(first_of_each.values())
        out: list[Candidate] = []
        for size in (2, MAX_COMBINED):
            for group in combinations(slots, size):
                if len(out) >= count:
                    break
                if _count_beside_object(group, fact):
                    continue
                candidate = self._candidate(fact, PHASE_GLOBAL, list(group), "combine")
                if candidate is not None:
                    out.append(candidate)
        if lex.CAPTION in attributes and len(out) < count:
            pool = [o for o in others if o.strip() and o.strip().lower() != fact.strip().lower()]
            if pool:
                other = pool[_stable(fact, "caption") % len(pool)]
                out.append(Candidate(phase=PHASE_GLOBAL, fact=fact, text=other, changes=[Change(lex.CAPTION, fact, other)],
                                     operation="other_caption"))
        return out[:count]

    # --- verifier ---

    def verify(self, *, positive: Positive, candidate: Candidate) -> AgentVerdict:
        visual = "not checked: the built-in engine cannot see the image; the visual check is the reviewer's"
        fact, text = candidate.fact, candidate.text.strip()
        if not text:
            return AgentVerdict(False, "empty", "the negative is empty", VISUAL_BY_REVIEWER)
        if not candidate.changes:
            return AgentVerdict(False, "no_change_record", "the negative has no change record", VISUAL_BY_REVIEWER)
        if text.lower() == fact.strip().lower():
            return AgentVerdict(False, "unchanged", "the negative says the same as the positive", VISUAL_BY_REVIEWER)
        for index, change in enumerate(candidate.changes):
            problem = change_problem(change, fact, candidate.operation)
            if problem is not None:
                return AgentVerdict(False, problem[0], f"change {index + 1}: {problem[1]}", VISUAL_BY_REVIEWER)
            if change.attribute != lex.CAPTION and not _target_in(text, change.target):
                return AgentVerdict(False, "target_missing", f"change {index + 1}: '{change.target}' is not in the negative",
                                    VISUAL_BY_REVIEWER)
        if candidate.operation != "other_caption":
            regions = changed_regions(fact, text)
            if regions > 2 * len(candidate.changes):
                return AgentVerdict(False, "unexplained_change",
                                    f"the negative differs in {regions} places but records {len(candidate.changes)} change(s)",
                                    VISUAL_BY_REVIEWER)
        new_problems = [p for p in fluency_problems(text) if p not in fluency_problems(fact)]
        if new_problems:
            return AgentVerdict(False, "not_fluent", "; ".join(new_problems), VISUAL_BY_REVIEWER)
        return AgentVerdict(True, "", f"text rules pass; {visual}", VISUAL_BY_REVIEWER)

    # --- corrector ---

    def correct(self, *, positive: Positive, candidate: Candidate, verdict: AgentVerdict) -> Candidate | None:
        if verdict.reason == "not_fluent":
            fixed = fluency_fix(candidate.text)
            if fixed == candidate.text:
                return None
            return Candidate(phase=candidate.phase, fact=candidate.fact, text=fixed, changes=list(candidate.changes),
                             operation=candidate.operation, meta={**candidate.meta, "fixed": "fluency"})
        if verdict.reason in ("shade", "paraphrase", "same_as_origin", "wrong_attribute_type", "ambiguous_colour",
                              "not_contradictory", "count_step"):
            placements = [list(p) for p in candidate.meta.get("placements", [])]
            if not placements or candidate.operation in ("swap_relation", "swap_attributes", "other_caption"):
                return None
            changed = False
            for placement in placements:
                change = Change(placement[2], placement[3], placement[4])
                if change_problem(change, candidate.fact, candidate.operation) is None:
                    continue
                used = {p[4].lower() for p in placements}
                options = [o for o in target_options(change.attribute, change.origin, strict=True) if o.lower() not in used]
                if not options:
                    return None
                placement[4] = options[_stable(candidate.fact, placement[0], "correct") % len(options)]
                changed = True
            if not changed:
                return None
            changes = [Change(p[2], p[3], p[4]) for p in placements]
            return Candidate(phase=candidate.phase, fact=candidate.fact, text=_apply(candidate.fact, placements),
                             changes=changes, operation=candidate.operation, meta={"placements": placements, "fixed": verdict.reason})
        # origin_missing, unset_origin, unexplained_change, unchanged...: nothing a rule can repair.
        return None


__all__ = ["PHASE_ATOMIC", "PHASE_ATTRIBUTE", "BuiltinHardNegativeEngine", "find_slots", "fluency_problems", "fluency_fix"]
