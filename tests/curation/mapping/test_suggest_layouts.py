"""Each public layout is mapped by the suggester without edits, and the samples are checked turn by turn."""
import pytest

from curation.ingest.records import image_ref
from curation.mapping.suggesters.build import CAPTION_INSTRUCTIONS, OCR_INSTRUCTIONS
from curation.models import Job, Mapping, Sample, SourceRow, Subset
from curation.services import job_kinds
from curation.services.mapping import mapping_accept, mapping_suggest
from tests.curation.mapping import layouts
from tests.factories import image_make
from workers.tasks.mapping import apply_mapping

pytestmark = pytest.mark.django_db


def suggest_accept_apply(source, curator) -> tuple[Mapping, list[Sample]]:
    mapping = mapping_suggest(source=source)
    missing = [r["text"] for r in mapping.reasons if r["column"] is None and r["role"] not in ("note",)]
    assert not missing, missing
    assert mapping.engine == "rules" and mapping.confidence > 0
    job = mapping_accept(mapping=mapping, by=curator)
    apply_mapping.run(job.pk)
    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED, job.message
    mapping.refresh_from_db()
    samples = list(Sample.objects.filter(source=source).order_by("row_number").prefetch_related("sample_images"))
    return mapping, samples


def row_images(source, row_number: int) -> list[str]:
    return SourceRow.objects.get(source=source, row_number=row_number).image_shas


def sample_images(sample: Sample) -> list[str]:
    return [si.image_id for si in sample.sample_images.order_by("position")]


def test_llava_instruct_conversations_become_turns_without_image_tokens(curator):
    source = layouts.source_with_rows("LLaVA-Instruct-150K", layouts.llava_records())
    mapping, samples = suggest_accept_apply(source, curator)
    assert mapping.spec["turns"] == {"mode": "conversation", "column": "conversations", "style": "from_value",
                                     "system": "prepend", "strip_image_tokens": True}
    assert samples[0].turns == [
        {"user": "What are the colors of the bus in the image?", "assistant": "The bus in the image is white and red."},
        {"user": "What feature can be seen on the back of the bus?",
         "assistant": "The back of the bus features an advertisement."},
    ]
    assert samples[1].turns == [{"user": "Where is the cat positioned in the image?",
                                 "assistant": "The cat is positioned on top of the back of the couch."}]
    for sample in samples:
        assert sample.mapping_id == mapping.pk and sample.image_count == 1
        assert sample_images(sample) == row_images(source, sample.row_number)
    assert mapping.subset.category == Subset.Category.GENERAL_VQA and mapping.subset.sample_count == 2


def test_cauldron_texts_and_image_lists_keep_order(curator):
    source = layouts.source_with_rows("the_cauldron_chartqa", layouts.cauldron_records())
    mapping, samples = suggest_accept_apply(source, curator)
    assert mapping.spec["turns"]["style"] == "user_assistant" and mapping.spec["turns"]["column"] == "texts"
    assert samples[0].turns == [{
        "user": "Question: What is the label of the first bar?\nChoices:\nA. 2010\nB. 2011\nAnswer with the letter.",
        "assistant": "Answer: A",
    }]
    assert samples[1].turns == [
        {"user": "Are the two images the same?", "assistant": "No."},
        {"user": "Which one is brighter?", "assistant": "The second one."},
    ]
    assert samples[1].image_count == 2 and sample_images(samples[1]) == row_images(source, 1)
    assert mapping.subset.category == Subset.Category.CHART_TABLE  # from the source's name


def test_sharegpt_openai_messages_with_content_parts_and_system_prompt(curator):
    source = layouts.source_with_rows("sharegpt4v-style", layouts.sharegpt_records())
    mapping, samples = suggest_accept_apply(source, curator)
    assert mapping.spec["turns"]["style"] == "role_content"
    assert mapping.spec["images"] == [{"column": "messages", "kind": "auto", "base": ""}]
    assert samples[0].turns == [{"user": "You are a careful visual assistant.\n\nWhat is in the image?",
                                 "assistant": "A single coloured square."}]
    assert samples[0].image_count == 1 and sample_images(samples[0]) == row_images(source, 0)
    assert samples[1].turns == [
        {"user": "Describe the picture.", "assistant": "It is a flat colour."},
        {"user": "Which colour?", "assistant": "Mostly red."},
    ]
    assert samples[1].image_count == 0


def test_openai_image_url_parts_beside_an_images_list_take_each_image_once(curator):
    """The messages only mark where the images go: the images are the ones the `images` column lists."""
    first, second = image_make(), image_make()
    parts = [{"type": "image_url", "image_url": {"url": image_ref(first.pk)}},
             {"type": "image_url", "image_url": {"url": image_ref(second.pk)}},
             {"type": "text", "text": "Which picture is larger?"}]
    records = [
        {"messages": [{"role": "user", "content": parts}, {"role": "assistant", "content": "The second one."}],
         "images": [image_ref(first.pk), image_ref(second.pk)]},
        {"messages": [{"role": "user", "content": "<image>What is it?"}, {"role": "assistant", "content": "A square."}],
         "images": [image_ref(second.pk)]},
    ]
    source = layouts.source_with_rows("openai-parts", records)
    mapping, samples = suggest_accept_apply(source, curator)
    assert mapping.spec["images"] == [{"column": "images", "kind": "auto", "base": ""}]
    assert any("not taken twice" in r["text"] for r in mapping.reasons)
    assert [sample_images(s) for s in samples] == [[first.pk, second.pk], [second.pk]]


def test_images_inside_messages_that_no_images_column_lists_are_still_taken(curator):
    listed, inline = image_make(), image_make()
    records = [{"messages": [
        {"role": "user", "content": [{"type": "image", "image": image_ref(inline.pk)}, {"type": "text", "text": "And this?"}]},
        {"role": "assistant", "content": "Another square."},
    ], "images": [image_ref(listed.pk)]}]
    source = layouts.source_with_rows("openai-parts-extra", records)
    mapping, samples = suggest_accept_apply(source, curator)
    assert [i["column"] for i in mapping.spec["images"]] == ["messages", "images"]
    assert sample_images(samples[0]) == [inline.pk, listed.pk]


def test_vqav2_takes_the_multiple_choice_answer_over_the_list_of_ten(curator):
    source = layouts.source_with_rows("vqav2", layouts.vqav2_records())
    mapping, samples = suggest_accept_apply(source, curator)
    assert mapping.spec["turns"]["pairs"] == [{"user": "{question}", "assistant": "{multiple_choice_answer}"}]
    assert [s.turns for s in samples] == [
        [{"user": "What is this photo taken looking through?", "assistant": "net"}],
        [{"user": "What position is this man playing?", "assistant": "pitcher"}],
    ]
    assert all(s.image_count == 1 for s in samples)


def test_vqa_with_only_the_answers_list_takes_the_most_frequent_answer(curator):
    records = layouts.vqav2_records()
    for record in records:
        del record["multiple_choice_answer"]
    source = layouts.source_with_rows("vqa-answers-only", records)
    mapping, samples = suggest_accept_apply(source, curator)
    assert mapping.spec["turns"]["answer"]["by"] == "majority"
    assert [s.turns[0]["assistant"] for s in samples] == ["net", "pitcher"]


def test_scienceqa_letters_choices_reads_answer_index_and_adds_hint_only_when_given(curator):
    source = layouts.source_with_rows("ScienceQA", layouts.scienceqa_records())
    mapping, samples = suggest_accept_apply(source, curator)
    turns = mapping.spec["turns"]
    assert turns["options"] == {"column": "choices", "style": "letter"}
    assert turns["answer"] == {"column": "answer", "by": "index", "format": "letter_text", "index_base": 0}
    assert samples[0].turns == [{
        "user": "Which of these states is farthest north?\nA. West Virginia\nB. Louisiana\nC. Arizona\nD. Oklahoma",
        "assistant": "A. West Virginia",
    }]
    assert samples[1].turns == [{
        "user": "Context: Tree frogs live in rain forests. Their feet are adapted for sticking to smooth surfaces.\n"
                "Which animal's feet are also adapted for sticking to smooth surfaces?\nA. tokay gecko\n"
                "B. Madagascar day gecko",
        "assistant": "B. Madagascar day gecko",
    }]
    assert samples[2].image_count == 0 and samples[2].turns[0]["assistant"] == "A. stove"
    assert mapping.subset.category == Subset.Category.SCIENCE


def test_five_captions_per_image_become_five_turns_with_deterministic_instructions(curator):
    source = layouts.source_with_rows("coco-captions", layouts.captions_records())
    mapping, samples = suggest_accept_apply(source, curator)
    for sample, captions in zip(samples, layouts.COCO_CAPTIONS, strict=True):
        assert [t["assistant"] for t in sample.turns] == captions
        assert all(t["user"] in CAPTION_INSTRUCTIONS for t in sample.turns)
    first_users = [t["user"] for t in samples[0].turns]
    assert len(set(first_users)) > 1  # instructions vary by turn, chosen by hash, not always the first
    assert mapping.subset.category == Subset.Category.CAPTIONING
    # Applying again gives exactly the same instructions: they depend on source and row only.
    job = Job.objects.create(kind=job_kinds.APPLY_MAPPING.key, target_id=str(mapping.pk),
                             target_type_id=Job.objects.get(kind=job_kinds.APPLY_MAPPING.key).target_type_id)
    apply_mapping.run(job.pk)
    assert [t["user"] for t in Sample.objects.get(pk=samples[0].pk).turns] == first_users


def test_karpathy_sentences_objects_use_their_raw_text(curator):
    source = layouts.source_with_rows("coco-karpathy", layouts.karpathy_records())
    mapping, samples = suggest_accept_apply(source, curator)
    assert mapping.spec["turns"]["pairs"][0]["assistant"] == "{sentences.raw}"
    assert [t["assistant"] for t in samples[1].turns] == layouts.COCO_CAPTIONS[1]


def test_ocr_image_and_text_become_a_reading_instruction_and_the_text(curator):
    source = layouts.source_with_rows("iiit5k-words", layouts.ocr_records())
    mapping, samples = suggest_accept_apply(source, curator)
    assert [t["assistant"] for s in samples for t in s.turns] == ["STOP", "Main Street 42\nOpen 9-17"]
    assert all(s.turns[0]["user"] in OCR_INSTRUCTIONS for s in samples)
    assert mapping.subset.category == Subset.Category.OCR


def test_text_only_question_answer(curator):
    source = layouts.source_with_rows("trivia-qa-small", layouts.textonly_records())
    mapping, samples = suggest_accept_apply(source, curator)
    assert mapping.spec["images"] == []
    assert [s.turns for s in samples] == [
        [{"user": "What is the capital of France?", "assistant": "Paris."}],
        [{"user": "How many legs does a spider have?", "assistant": "Eight."}],
    ]
    assert mapping.subset.category == Subset.Category.TEXT_ONLY and all(s.image_count == 0 for s in samples)


def test_text_only_instruction_input_output_appends_the_input_when_present(curator):
    source = layouts.source_with_rows("alpaca", layouts.alpaca_records())
    mapping, samples = suggest_accept_apply(source, curator)
    assert samples[0].turns == [{"user": "Give three tips for staying healthy.",
                                 "assistant": "1. Eat a balanced diet.\n2. Exercise regularly.\n3. Sleep well."}]
    assert samples[1].turns == [{"user": "Translate the sentence to French.\n\nThe cat sleeps.",
                                 "assistant": "Le chat dort."}]


def test_a_suggester_without_evidence_says_so_instead_of_guessing(curator):
    source = layouts.source_with_rows("mystery", [{"foo": "x" * 20, "bar": "y" * 20}, {"foo": "z", "bar": "w"}])
    mapping = mapping_suggest(source=source)
    missing = {r["role"]: r["text"] for r in mapping.reasons if r["column"] is None and r["role"] != "note"}
    assert "question" in missing and "no evidence" in missing["question"]
    assert mapping.confidence == 0.0
    assert mapping.spec["turns"]["pairs"] == [{"user": "", "assistant": ""}]
    assert any(r["role"] == "error" for r in mapping.reasons)  # the spec is not valid until a curator completes it
