"""The transformers judge loads a tiny randomly initialised GPT-2 saved to a temp dir (no hub) and
scores the rubric prompts in batches; every text axis gets a level 1-5, image correspondence stays empty."""
import pytest

from curation.engines.judges import PROMPTS_DIR, TurnToRate
from curation.engines.judges_transformers import TransformersJudge


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    path = tmp_path_factory.mktemp("tiny-gpt2")
    words = {w for f in PROMPTS_DIR.glob("ratings_v1/*.txt") for w in f.read_text().replace("\n", " ").split()}
    vocab = {"<unk>": 0, "<pad>": 1, "<eos>": 2, **{str(d): 3 + d for d in range(10)}}
    for word in sorted(words):
        vocab.setdefault(word, len(vocab))
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Digits(individual_digits=True)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="<unk>", pad_token="<pad>", eos_token="<eos>")
    fast.save_pretrained(path)
    config = GPT2Config(vocab_size=len(vocab), n_positions=1024, n_embd=16, n_layer=1, n_head=2, pad_token_id=1, eos_token_id=2)
    GPT2LMHeadModel(config).save_pretrained(path)
    return path


def test_a_tiny_local_model_is_loaded_and_rates_a_batch(tiny_model_dir):
    judge = TransformersJudge(tiny_model_dir, batch_size=4)
    assert judge.available().ok
    turns = [TurnToRate(question=f"How many cats are there? ({i})", answer=f"There are {i} cats.", image_count=1) for i in range(5)]
    results = judge.rate(turns)
    assert len(results) == 5
    for rated in results:
        assert all(rated[axis].score in {1, 2, 3, 4, 5} for axis in ("formatting", "relevance", "visual_dependency"))
        assert rated["image_correspondence"].score is None
        assert "p=" in rated["formatting"].reason
    probabilities = judge.level_probabilities(["a", "a longer prompt with more words", "b"])
    assert all(abs(sum(p) - 1) < 1e-5 for p in probabilities)
    # Batching and left padding do not change a prompt's answer.
    alone = TransformersJudge(tiny_model_dir, batch_size=1).level_probabilities(["a longer prompt with more words"])[0]
    assert alone == pytest.approx(probabilities[1], abs=1e-4)
    assert judge.name == f"transformers-judge:{tiny_model_dir.name}" and "ratings_v1" in judge.version


def test_a_missing_model_directory_is_unavailable_with_the_reason(tmp_path):
    availability = TransformersJudge(tmp_path / "nothing").available()
    assert not availability.ok and "config.json" in availability.reason
