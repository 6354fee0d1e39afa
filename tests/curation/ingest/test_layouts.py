"""Layouts: LLaVA, Cauldron/FineVision and ShareGPT/OpenAI records are recognised; anything else is a table."""
from curation.ingest.layouts import layout_detect, record_layout
from curation.models import Source


def test_llava_conversations_with_from_and_value():
    record = {"image": "a.jpg", "conversations": [{"from": "human", "value": "<image>\nWhat?"}, {"from": "gpt", "value": "A cat."}]}
    assert record_layout(record) == Source.Layout.LLAVA


def test_cauldron_images_and_texts_with_user_and_assistant():
    record = {"images": [{"$image": "0" * 64}], "texts": [{"user": "What?", "assistant": "A cat.", "source": "x"}]}
    assert record_layout(record) == Source.Layout.CAULDRON


def test_sharegpt_and_openai_messages_with_role_and_content():
    record = {"messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}, {"role": "assistant", "content": "Yo"}]}
    assert record_layout(record) == Source.Layout.SHAREGPT


def test_other_records_are_a_table():
    assert record_layout({"question": "q", "answer": "a", "messages": "not a list"}) == Source.Layout.TABLE


def test_the_layout_of_most_sampled_records_wins_and_image_folders_are_their_own():
    llava = {"conversations": [{"from": "human", "value": "x"}]}
    assert layout_detect([llava, llava, {"other": 1}], format="jsonl") == "llava"
    assert layout_detect([{"image": {"$image": "0" * 64}}], format="imagefolder") == "imagefolder"
    assert layout_detect([], format="jsonl") == ""
