"""Fixtures shared by several test modules (the helpers they are built from are in helpers.py)."""
from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

from helpers import CAMEMBERT_TEXTS, SPLIT, build_tiny_model, config, slice_corpus
from pipeline.cli import app
from pipeline.corpus.dataset import CORPUS


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A real model folder (helpers.build_tiny_model): for tests of classify and of model folders."""
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny")


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory):
    """Eight interviews of the bundled corpus, with their gold, as a corpus of its own."""
    return slice_corpus(tmp_path_factory.mktemp("corpus"), CORPUS, SPLIT)


@pytest.fixture(scope="module")
def context_model(small_corpus, tmp_path_factory):
    """A baseline model trained on `small_corpus` that reads the question and the previous passage."""
    path = config(small_corpus)
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump({**cfg, "context": True}), encoding="utf-8")
    out = tmp_path_factory.mktemp("models") / "context"
    result = CliRunner().invoke(app, ["train", "--config", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def tiny_camembert(tmp_path_factory):
    """A random-weight CamemBERT with its own tokenizer, saved to a local folder (nothing downloaded)."""
    pytest.importorskip("torch")
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import CamembertConfig, CamembertForSequenceClassification, PreTrainedTokenizerFast

    d = tmp_path_factory.mktemp("tiny-camembert")
    tok = Tokenizer(models.WordPiece(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(CAMEMBERT_TEXTS, trainers.WordPieceTrainer(vocab_size=200, special_tokens=[
        "<s>", "<pad>", "</s>", "<unk>", "<mask>"]))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                   pad_token="<pad>", mask_token="<mask>", cls_token="<s>", sep_token="</s>")
    fast.save_pretrained(d)
    config_ = CamembertConfig(vocab_size=fast.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                              intermediate_size=64, max_position_embeddings=130, pad_token_id=fast.pad_token_id)
    CamembertForSequenceClassification(config_).save_pretrained(d)
    return d
