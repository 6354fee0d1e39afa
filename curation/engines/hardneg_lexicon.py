"""The attribute lexicon of the built-in hard-negative engine, in the style of FG-OVD, NegCLIP and SugarCrepe.

Each attribute type lists its values in classes: values of one class mean the same thing (shades of one
colour, synonyms of one size), so a target is always taken from another class. Values that count as unset
('plain', 'opaque') are never replaced, and ambiguous colours are neither origins nor targets.
"""
from dataclasses import dataclass

COLOUR = "colour"
MATERIAL = "material"
PATTERN = "pattern"
TRANSPARENCY = "transparency"
COUNT = "count"
SPATIAL = "spatial_relation"
SIZE = "size"
STATE = "state"
SHAPE = "shape"
ACTION = "action"
TEXT = "text_in_image"
OBJECT = "object"
CAPTION = "caption"  # another image's caption (FG-OVD's "trivial" level)

ATTRIBUTES: tuple[tuple[str, str], ...] = (
    (COLOUR, "Colour"),
    (MATERIAL, "Material"),
    (PATTERN, "Pattern"),
    (TRANSPARENCY, "Transparency"),
    (COUNT, "Count (+-1)"),
    (SPATIAL, "Spatial relation"),
    (SIZE, "Size"),
    (STATE, "State"),
    (SHAPE, "Shape"),
    (ACTION, "Action"),
    (TEXT, "Text in image"),
    (OBJECT, "Object"),
    (CAPTION, "Another image's caption (trivial)"),
)
ATTRIBUTE_KEYS = tuple(key for key, _ in ATTRIBUTES)
ATTRIBUTE_LABELS = dict(ATTRIBUTES)
# Targeted unless the curator picks others: every attribute but the trivial whole-caption swap.
DEFAULT_ATTRIBUTES = tuple(key for key in ATTRIBUTE_KEYS if key != CAPTION)

# Values that mean "no value set": a negative never starts from them.
UNSET_VALUES = frozenset({"plain", "opaque"})

# Colour families: a shade of the true colour is the same colour, never a negative.
COLOUR_FAMILIES: dict[str, tuple[str, ...]] = {
    "red": ("red", "crimson", "scarlet", "maroon", "burgundy", "ruby"),
    "blue": ("blue", "navy", "azure", "cobalt", "sky-blue"),
    "green": ("green", "olive", "lime", "emerald", "forest-green"),
    "yellow": ("yellow", "golden", "mustard", "lemon"),
    "orange": ("orange",),
    "purple": ("purple", "violet", "lavender", "lilac", "plum"),
    "pink": ("pink", "magenta", "fuchsia"),
    "brown": ("brown", "chocolate", "chestnut"),
    "black": ("black", "jet-black", "ebony"),
    "white": ("white", "ivory", "snow-white"),
    "gray": ("gray", "grey", "silver", "charcoal"),
}
# Colours people name differently for the same pixels: neither an origin nor a target.
AMBIGUOUS_COLOURS = frozenset({"beige", "tan", "teal", "turquoise", "khaki", "cream", "bronze", "colorful", "colourful", "multicolored", "multicoloured", "dark", "light", "pale"})

# attribute -> classes of interchangeable values (a target comes from another class).
CLASSES: dict[str, tuple[tuple[str, ...], ...]] = {
    COLOUR: tuple(COLOUR_FAMILIES.values()),
    MATERIAL: (
        ("wooden", "wood"), ("metal", "metallic", "steel", "iron"), ("plastic",), ("glass",), ("leather",),
        ("stone",), ("brick",), ("ceramic", "porcelain"), ("paper",), ("cardboard",), ("wicker",), ("concrete",),
    ),
    PATTERN: (("striped", "stripy"), ("checkered", "checked", "plaid"), ("polka-dot", "dotted", "spotted"), ("floral",), ("plain",)),
    TRANSPARENCY: (("transparent", "see-through", "clear"), ("translucent",), ("opaque",)),
    SIZE: (("small", "tiny", "little"), ("large", "big", "huge", "giant")),
    STATE: (
        ("open",), ("closed",), ("empty",), ("full",), ("wet",), ("dry",), ("clean",), ("dirty",), ("lit",), ("unlit",),
        ("sliced",), ("whole",), ("cooked",), ("raw",), ("broken",), ("intact",), ("parked",), ("moving",),
    ),
    SHAPE: (("round", "circular"), ("square",), ("rectangular",), ("triangular",), ("oval",), ("heart-shaped",), ("hexagonal",)),
}
# For attributes whose values are not all mutually exclusive, the targets that contradict each origin.
OPPOSITES: dict[str, dict[str, tuple[str, ...]]] = {
    STATE: {
        "open": ("closed",), "closed": ("open",), "empty": ("full",), "full": ("empty",), "wet": ("dry",), "dry": ("wet",),
        "clean": ("dirty",), "dirty": ("clean",), "lit": ("unlit",), "unlit": ("lit",), "sliced": ("whole",),
        "whole": ("sliced",), "cooked": ("raw",), "raw": ("cooked",), "broken": ("intact",), "intact": ("broken",),
        "parked": ("moving",), "moving": ("parked",),
    },
    ACTION: {
        "sitting": ("standing", "lying"), "standing": ("sitting", "lying"), "lying": ("sitting", "standing"),
        "laying": ("sitting", "standing"), "walking": ("running", "standing"), "running": ("walking", "standing"),
        "riding": ("pushing", "carrying"), "holding": ("throwing", "dropping"), "throwing": ("catching", "holding"),
        "catching": ("throwing",), "smiling": ("frowning",), "laughing": ("crying",), "crying": ("laughing",),
        "sleeping": ("eating", "playing"), "eating": ("sniffing", "throwing"), "drinking": ("spilling",),
        "reading": ("writing", "tearing"), "flying": ("landing",), "swimming": ("floating",), "jumping": ("standing",),
    },
    SPATIAL: {
        "left": ("right",), "right": ("left",), "above": ("below",), "below": ("above",), "over": ("under",),
        "under": ("over",), "underneath": ("on top of",), "behind": ("in front of",), "in front of": ("behind",),
        "inside": ("outside",), "outside": ("inside",), "on top of": ("underneath",),
    },
}
# Objects by category: a replaced object keeps its category (NegCLIP/SugarCrepe replace-object).
OBJECT_CATEGORIES: tuple[tuple[tuple[str, str], ...], ...] = (
    (("dog", "dogs"), ("cat", "cats"), ("horse", "horses"), ("cow", "cows"), ("sheep", "sheep"), ("bird", "birds"),
     ("elephant", "elephants"), ("giraffe", "giraffes"), ("zebra", "zebras"), ("bear", "bears")),
    (("car", "cars"), ("bus", "buses"), ("truck", "trucks"), ("train", "trains"), ("bicycle", "bicycles"),
     ("motorcycle", "motorcycles"), ("boat", "boats"), ("airplane", "airplanes")),
    (("pizza", "pizzas"), ("sandwich", "sandwiches"), ("cake", "cakes"), ("banana", "bananas"), ("apple", "apples"),
     ("donut", "donuts"), ("broccoli", "broccoli"), ("hot dog", "hot dogs")),
    (("chair", "chairs"), ("couch", "couches"), ("bed", "beds"), ("table", "tables"), ("bench", "benches"), ("desk", "desks")),
    (("man", "men"), ("woman", "women"), ("boy", "boys"), ("girl", "girls"), ("person", "people"), ("child", "children")),
    (("cup", "cups"), ("bowl", "bowls"), ("plate", "plates"), ("bottle", "bottles"), ("vase", "vases")),
    (("umbrella", "umbrellas"), ("kite", "kites"), ("frisbee", "frisbees"), ("surfboard", "surfboards"),
     ("skateboard", "skateboards"), ("ball", "balls")),
)
NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
# Words a sign, a shirt or a screen commonly shows: replacements for text in the image.
SIGN_WORDS = ("STOP", "YIELD", "EXIT", "OPEN", "CLOSED", "SALE", "PARKING", "ONE WAY", "HOTEL", "PIZZA")
SPATIAL_PHRASES = ("on top of", "in front of", "next to", "underneath", "behind", "beside", "above", "below", "under", "over", "inside", "outside", "near", "on")


@dataclass(frozen=True)
class ObjectForm:
    singular: str
    plural: str
    category: int


def _object_forms() -> dict[str, tuple[ObjectForm, bool]]:
    forms: dict[str, tuple[ObjectForm, bool]] = {}
    for index, category in enumerate(OBJECT_CATEGORIES):
        for singular, plural in category:
            form = ObjectForm(singular, plural, index)
            forms[singular] = (form, False)
            forms.setdefault(plural, (form, True))
    return forms


OBJECT_FORMS = _object_forms()
PLURAL_OF = {form.singular: form.plural for form, _ in OBJECT_FORMS.values()}
SINGULAR_OF = {form.plural: form.singular for form, is_plural in OBJECT_FORMS.values() if is_plural}


def value_class(attribute: str, value: str) -> tuple[str, ...] | None:
    """The class of interchangeable values `value` belongs to, or None when the lexicon does not know it."""
    for values in CLASSES.get(attribute, ()):
        if value in values:
            return values
    return None


def colour_family(word: str) -> str | None:
    for family, shades in COLOUR_FAMILIES.items():
        if word in shades:
            return family
    return None


def attribute_of(word: str) -> str | None:
    """The attribute type a lexicon word belongs to (first match), for the verifier's type check."""
    for attribute in (COLOUR, MATERIAL, PATTERN, TRANSPARENCY, SIZE, STATE, SHAPE):
        if value_class(attribute, word) is not None:
            return attribute
    if word in OPPOSITES[ACTION]:
        return ACTION
    if word in OPPOSITES[SPATIAL]:
        return SPATIAL
    if word in OBJECT_FORMS:
        return OBJECT
    if word in NUMBER_WORDS or word.isdigit():
        return COUNT
    return None
