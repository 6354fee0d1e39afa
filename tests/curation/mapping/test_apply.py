"""row_map, the pure function shared by preview and apply: one row in, one sample (or a reason) out."""
import base64

import pytest

from curation.mapping.apply import FilteredOut, ImageRef, RowMappingError, row_map
from curation.mapping.spec import spec_from_dict


def spec(turns, images=(), filters=()):
    return spec_from_dict({"subset": {"name": "s", "category": "general_vqa"}, "images": list(images), "turns": turns,
                       "filters": list(filters)})


def template(user, assistant, **extra):
    return {"mode": "template", "pairs": [{"user": user, "assistant": assistant}], **extra}


def mapped(s, data, row=0):
    return row_map(s, source_name="src", row_number=row, data=data)


def test_answer_by_letter_and_by_text_find_the_option():
    by_letter = spec(template("{q}\n{options}", "{answer}", options={"column": "opts", "style": "letter_paren"},
                              answer={"column": "a", "by": "letter", "format": "letter_text"}))
    out = mapped(by_letter, {"q": "Colour?", "opts": ["red", "blue"], "a": "(B)"})
    assert out.turns == [{"user": "Colour?\n(A) red\n(B) blue", "assistant": "B. blue"}]
    by_text = spec(template("{q}\n{options}", "{answer}", options={"column": "opts", "style": "number"},
                            answer={"column": "a", "by": "text", "format": "letter"}))
    assert mapped(by_text, {"q": "Colour?", "opts": ["red", "Blue"], "a": "blue"}).turns[0] == {
        "user": "Colour?\n1. red\n2. Blue", "assistant": "B"}
    with pytest.raises(RowMappingError, match="is not one of the options"):
        mapped(by_text, {"q": "Colour?", "opts": ["red"], "a": "green"})


def test_answer_index_out_of_range_and_one_based_indexes():
    s = spec(template("{q}\n{options}", "{answer}", options={"column": "o"},
                      answer={"column": "a", "by": "index", "format": "text", "index_base": 1}))
    assert mapped(s, {"q": "?", "o": ["x", "y"], "a": 2}).turns[0]["assistant"] == "y"
    with pytest.raises(RowMappingError, match="points to option 3, but there are 2 options"):
        mapped(s, {"q": "?", "o": ["x", "y"], "a": 3})


def test_several_qa_pairs_per_row_become_several_turns():
    s = spec(template("{questions}", "{answers}", each=["questions", "answers"]))
    out = mapped(s, {"questions": ["How many?", "What colour?"], "answers": ["2", "red"]})
    assert out.turns == [{"user": "How many?", "assistant": "2"}, {"user": "What colour?", "assistant": "red"}]
    with pytest.raises(RowMappingError, match="the lists differ in length"):
        mapped(s, {"questions": ["a", "b"], "answers": ["c"]})


def test_more_than_one_pair_template_makes_a_multi_turn_sample():
    s = spec({"mode": "template", "pairs": [{"user": "Name the object.", "assistant": "{name}"},
                                            {"user": "What colour is the {name}?", "assistant": "{colour}"}]})
    assert mapped(s, {"name": "ball", "colour": "red"}).turns == [
        {"user": "Name the object.", "assistant": "ball"}, {"user": "What colour is the ball?", "assistant": "red"}]


def test_instruction_templates_are_chosen_per_row_deterministically_and_vary_across_rows():
    templates = [f"Template {n}: {{question}}" for n in range(6)]
    s = spec(template("{instruction}", "{answer}", instructions=templates))
    chosen = [mapped(s, {"question": "Q", "answer": "A"}, row=n).turns[0]["user"] for n in range(40)]
    assert chosen == [mapped(s, {"question": "Q", "answer": "A"}, row=n).turns[0]["user"] for n in range(40)]
    assert len(set(chosen)) == 6 and all(c.endswith(": Q") for c in chosen)


def test_instruction_templates_keyed_by_task_column_like_vision_flan():
    s = spec(template("{instruction}", "{answer}", instructions={
        "column": "task", "templates": {"count": ["How many {object} are there?"], "colour": ["Which colour is it?"]},
        "default": ["Answer the question."]}))
    assert mapped(s, {"task": "count", "object": "cats", "answer": "3"}).turns[0]["user"] == "How many cats are there?"
    assert mapped(s, {"task": "colour", "answer": "red"}).turns[0]["user"] == "Which colour is it?"
    assert mapped(s, {"task": "other", "answer": "x"}).turns[0]["user"] == "Answer the question."


def test_filters_leave_rows_out_with_the_reason():
    s = spec(template("{q}", "{a}"), filters=[{"column": "q", "op": "not_empty"},
                                               {"column": "lang", "op": "in", "value": ["en", "fr"]},
                                               {"column": "a", "op": "max_chars", "value": 10}])
    assert mapped(s, {"q": "ok", "a": "fine", "lang": "en"}).turns == [{"user": "ok", "assistant": "fine"}]
    out = mapped(s, {"q": "  ", "a": "y", "lang": "en"})
    assert isinstance(out, FilteredOut) and out.reason == "filter 1 (q not empty)"
    assert mapped(s, {"q": "x", "a": "y", "lang": "de"}).reason.startswith("filter 2 (lang in")
    assert mapped(s, {"q": "x", "a": "a much longer answer", "lang": "en"}).reason.startswith("filter 3")


def test_missing_and_empty_values_are_row_errors_unless_optional():
    s = spec(template("{q}[[ ({note})]]{tail?}", "{a}"))
    assert mapped(s, {"q": "Why?", "a": "Because.", "note": ""}).turns[0]["user"] == "Why?"
    assert mapped(s, {"q": "Why?", "a": "Because.", "note": "n", "tail": "!"}).turns[0]["user"] == "Why? (n)!"
    with pytest.raises(RowMappingError, match=r"turn 1: \{a\}: the value is empty"):
        mapped(s, {"q": "Why?", "a": ""})
    with pytest.raises(RowMappingError, match=r"\{a\}: the row has no such column"):
        mapped(s, {"q": "Why?"})
    with pytest.raises(RowMappingError, match="holds a list"):
        mapped(s, {"q": ["a", "b"], "a": "x"})


def test_image_fields_single_list_path_and_bytes():
    png = base64.b64encode(b"\x89PNG fake").decode()
    s = spec(template("{q}", "{a}"), images=[{"column": "img"}, {"column": "more"}, {"column": "file", "kind": "path",
                                                                                    "base": "imgs"},
                                             {"column": "raw", "kind": "bytes"}])
    out = mapped(s, {"q": "q", "a": "a", "img": {"$image": "a" * 64}, "more": [{"$image": "b" * 64}, None],
                     "file": "x/1.jpg", "raw": {"bytes": png}})
    assert out.images == [ImageRef("sha", "a" * 64), ImageRef("sha", "b" * 64), ImageRef("path", "x/1.jpg", "imgs"),
                          ImageRef("bytes", b"\x89PNG fake")]
    with pytest.raises(RowMappingError, match="not valid base64"):
        mapped(s, {"q": "q", "a": "a", "img": None, "more": [], "file": None, "raw": "%%%"})


def test_a_record_without_the_image_key_is_a_text_only_sample():
    s = spec({"mode": "conversation", "column": "conversations"}, images=[{"column": "image"}])
    talk = [{"from": "human", "value": "Hi?"}, {"from": "gpt", "value": "Hello."}]
    out = mapped(s, {"id": "text-only", "conversations": talk})
    assert out.images == [] and out.turns == [{"user": "Hi?", "assistant": "Hello."}]
    assert mapped(s, {"image": {"$image": "c" * 64}, "conversations": talk}).images == [ImageRef("sha", "c" * 64)]


def test_conversation_errors_are_explained():
    s = spec({"mode": "conversation", "column": "c", "style": "from_value"})
    with pytest.raises(RowMappingError, match="ends with a user message that has no answer"):
        mapped(s, {"c": [{"from": "human", "value": "hi"}]})
    with pytest.raises(RowMappingError, match="starts with an assistant message"):
        mapped(s, {"c": [{"from": "gpt", "value": "hi"}, {"from": "human", "value": "yo"}]})
    with pytest.raises(RowMappingError, match="unknown role 'narrator'"):
        mapped(s, {"c": [{"from": "narrator", "value": "hi"}]})
    consecutive = mapped(s, {"c": '[{"from": "human", "value": "a"}, {"from": "human", "value": "b"}, '
                                  '{"from": "gpt", "value": "c"}]'})
    assert consecutive.turns == [{"user": "a\n\nb", "assistant": "c"}]  # a JSON string column is read as its list
