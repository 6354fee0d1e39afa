"""Spec validation: every problem is reported at once, with where it is and what is wrong."""
import pytest

from curation.mapping.spec import (
    Answer,
    ConversationTurns,
    ImageField,
    MappingSpec,
    Options,
    Pair,
    SpecError,
    TemplateTurns,
    spec_check,
    spec_from_dict,
    spec_to_dict,
)
from curation.mapping.template import TemplateError, template_parse

COLUMNS = {"image": "image", "question": "string", "answer": "integer", "choices": "list", "hint": "string"}


def good_spec(**turns_overrides):
    turns = {"mode": "template", "pairs": [{"user": "{question}\n{options}", "assistant": "{answer}"}],
             "options": {"column": "choices"}, "answer": {"column": "answer", "by": "index", "format": "letter_text"}}
    turns.update(turns_overrides)
    return {"subset": {"name": "sqa", "category": "science"}, "images": [{"column": "image"}], "turns": turns}


def errors_of(spec, columns=COLUMNS):
    with pytest.raises(SpecError) as caught:
        spec_from_dict(spec, columns=columns)
    return caught.value.errors


def test_a_valid_spec_parses_and_round_trips_in_canonical_form():
    parsed = spec_from_dict(good_spec(), columns=COLUMNS)
    canonical = spec_to_dict(parsed)
    assert canonical["images"] == [{"column": "image", "kind": "auto", "base": ""}]
    assert canonical["turns"]["answer"] == {"column": "answer", "by": "index", "format": "letter_text", "index_base": 0}
    assert spec_to_dict(spec_from_dict(canonical, columns=COLUMNS)) == canonical


def test_unknown_columns_are_named_with_the_columns_there_are():
    spec = good_spec(pairs=[{"user": "{quesiton}\n{options}", "assistant": "{answer}"}])
    spec["images"] = [{"column": "img"}]
    errors = errors_of(spec)
    assert any(e.startswith("images[0].column: 'img' is not a column of this source (columns: image, question") for e in errors)
    assert any(e.startswith("turns.pairs[0].user: {quesiton} is not a column") for e in errors)


def test_bad_templates_say_where():
    for template, message in [
        ("{question", "'{' at position 0 is never closed"),
        ("question}", "single '}' at position 8"),
        ("{}", "empty placeholder"),
        ("[[Context: {hint}", "never closed with ']]'"),
        ("[[no placeholder]]", "has no placeholder"),
        ("{ question }", "spaces around its name"),
    ]:
        errors = errors_of(good_spec(pairs=[{"user": template + "{options}", "assistant": "{answer}"}]))
        assert any("turns.pairs[0].user: bad template" in e and message in e for e in errors), (template, errors)


def test_literal_braces_and_sections_parse():
    parts = template_parse("{{x}} [[Hint: {hint}\n]]{question?}")
    assert parts[0] == "{x} "
    with pytest.raises(TemplateError):
        template_parse("[[a {b} [[c {d}]] ]]")


def test_every_error_is_reported_at_once():
    spec = {"subset": {"name": "", "category": "poetry"}, "turns": {"mode": "chat"}, "extra": 1}
    errors = errors_of(spec)
    assert "spec: unknown key 'extra' (allowed: filters, images, subset, turns)" in errors
    assert "subset.name: must not be empty" in errors
    assert any(e.startswith("subset.category: 'poetry' is not one of captioning") for e in errors)
    assert "turns.mode: 'chat' is not one of conversation, template" in errors


def test_derived_names_need_their_configuration_and_configuration_needs_its_use():
    errors = errors_of(good_spec(options=None))
    assert any("turns.answer.by: an answer given by index needs turns.options" in e for e in errors)
    errors = errors_of(good_spec(pairs=[{"user": "{question}", "assistant": "{answer}"}]))
    assert "turns.options: no template uses {options}" in errors
    errors = errors_of(good_spec(instructions=["Answer this."]))
    assert "turns.instructions: no template uses {instruction}, so the instructions would be ignored" in errors
    errors = errors_of(good_spec(answer={"column": "answer", "by": "majority", "format": "letter"}))
    assert "turns.answer.format: a majority answer is written as text" in errors


def test_filters_check_their_values():
    spec = good_spec()
    spec["filters"] = [{"column": "question", "op": "not_empty", "value": 3}, {"column": "hint", "op": "max_chars"},
                       {"column": "hint", "op": "in", "value": "x"}, {"column": "hint", "op": "glob", "value": "*"}]
    errors = errors_of(spec)
    assert "filters[0].value: op not_empty takes no value" in errors
    assert "filters[1].value: op max_chars needs a whole number >= 0" in errors
    assert "filters[2].value: op in needs a non-empty list of values" in errors
    assert any(e.startswith("filters[3].op: 'glob' is not one of") for e in errors)


def test_image_fields_accept_a_column_name_and_base_only_for_paths():
    spec = good_spec()
    spec["images"] = "image"
    assert spec_from_dict(spec, columns=COLUMNS).images[0].column == "image"
    spec["images"] = [{"column": "image", "kind": "bytes", "base": "/data"}]
    assert "images[0].base: only images of kind 'path' have a base folder" in errors_of(spec)


def test_conversation_mode_checks_its_column_and_style():
    spec = {"subset": {"name": "llava", "category": "general_vqa"},
            "turns": {"mode": "conversation", "column": "chat", "style": "irc"}}
    errors = errors_of(spec, columns={"conversations": "list"})
    assert any(e.startswith("turns.column: 'chat' is not a column") for e in errors)
    assert any(e.startswith("turns.style: 'irc' is not one of from_value") for e in errors)


def test_without_known_columns_only_the_shape_is_checked():
    spec = good_spec(pairs=[{"user": "{anything}\n{options}", "assistant": "{answer}"}])
    assert spec_from_dict(spec, columns={}).turns.pairs[0].user.startswith("{anything}")


def test_a_spec_built_in_code_is_checked_like_json_and_round_trips():
    spec = MappingSpec(subset_name="sqa", category="science", images=(ImageField(column="image"),),
                       turns=TemplateTurns(pairs=(Pair(user="{question}\n{options}", assistant="{answer}"),),
                                           options=Options(column="choices"),
                                           answer=Answer(column="answer", by="index", format="letter_text")))
    checked = spec_check(spec, columns=COLUMNS)
    assert checked == spec and checked.parsed  # templates parsed once, for rendering
    assert spec_from_dict(spec_to_dict(spec), columns=COLUMNS) == spec
    with pytest.raises(SpecError) as caught:
        spec_check(MappingSpec(subset_name="", category="science", images=(),
                               turns=ConversationTurns(column="chat")), columns=COLUMNS)
    assert "subset.name: must not be empty" in caught.value.errors
    assert any(e.startswith("turns.column: 'chat' is not a column") for e in caught.value.errors)
