"""A user cleans a turn for the classifier and can always find each cleaned word in the transcript."""
from __future__ import annotations

import itertools
import re
import unicodedata

import ftfy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.passages.clean import CleanText, clean_text
from pipeline.passages.segment_config import CleanConfig
from pipeline.core.spans import Span

QUOTES = CleanConfig().quotes


def cleaned(text: str, **config) -> str:
    return clean_text(text, config=CleanConfig(**config) if config else None).text


def source_of(ct: CleanText, plain: str, i: int, j: int) -> str:
    return ct.span(i, j).shift(-ct.base).of(plain)


# --- one example per operation -------------------------------------------------------------


def test_nfc_composes_accents_and_maps_to_both_code_points():
    plain = "cafe\u0301 noir"
    ct = clean_text(plain)
    assert ct.text == "café noir"
    assert source_of(ct, plain, 3, 4) == "e\u0301"


def test_mojibake_is_repaired_and_the_rest_of_the_word_keeps_exact_offsets():
    plain = "une rÃ©union avec lâ€™entreprise"
    ct = clean_text(plain)
    assert ct.text == "une réunion avec l'entreprise"
    i = ct.text.index("é")
    assert source_of(ct, plain, i, i + 1) == "Ã©"
    assert source_of(ct, plain, i + 1, i + 6) == "union"
    assert source_of(ct, plain, i - 1, i + 6) == "rÃ©union"


def test_mojibake_of_a_with_grave_before_a_lost_nbsp():
    assert cleaned("voilÃ  tout") == "voilà tout"


def test_legitimate_accents_are_not_touched_by_mojibake_repair():
    assert cleaned("la pâte à l'âge déjà être") == "la pâte à l'âge déjà être"


def test_apostrophes_and_quotes_are_straightened():
    assert cleaned("l’homme ‘a’ ‛b’ “c” ‟d” « e »") == "l'homme 'a' 'b' \"c\" \"d\" \" e \""


def test_quotes_mapping_is_configurable():
    assert cleaned("« e »", quotes={"’": "'"}) == "« e »"


def test_non_breaking_and_narrow_spaces_become_spaces():
    assert cleaned("oui\u00a0!\u202fbon\u2009là\tici") == "oui ! bon là ici"


def test_line_break_hyphenation_is_joined():
    plain = "la coopé-\nration locale"
    ct = clean_text(plain)
    assert ct.text == "la coopération locale"
    i = ct.text.index("coop")
    assert source_of(ct, plain, i, i + len("coopération")) == "coopé-\nration"


def test_hyphen_before_a_capital_on_the_next_line_is_kept():
    assert cleaned("Jean-\nPierre") == "Jean- Pierre"


@pytest.mark.parametrize(
    "plain",
    ["il [rires] part", "il [rire] part", "il (inaudible) part", "il (.) part", "il (...) part",
     "il xxx part", "il XXX part", "il [00:12:03] part", "il (00:12) part", "il [bruit] part"],
)
def test_transcription_marks_and_timestamps_are_removed(plain):
    assert cleaned(plain) == "il part"


def test_mark_glued_to_words_leaves_two_words():
    assert cleaned("bon[rires]alors") == "bon alors"


def test_hesitations_are_removed_but_not_bah():
    assert cleaned("alors euh on heu a hum vu hm bah Euh oui hmm") == "alors on a vu bah oui"


def test_elongated_hesitations_and_their_comma_are_removed():
    assert cleaned("alors, euh, on euuuh hmmm voilà... heu... bon") == "alors, on voilà... bon"


def test_hesitation_list_is_configurable():
    assert cleaned("bah euh oui", hesitations=["bah"]) == "euh oui"


def test_hesitation_inside_a_word_is_kept():
    assert cleaned("eux heureux humain euhm") == "eux heureux humain euhm"


def test_past_participle_eu_is_not_a_hesitation():
    assert cleaned("j'ai eu peur") == "j'ai eu peur"


@pytest.mark.parametrize(
    ("plain", "expected"),
    [
        ("le le le chat", "le chat"),
        ("on on a vu", "on a vu"),
        ("je crois je crois que oui", "je crois que oui"),
        ("il y a il y a il y a des gens", "il y a des gens"),
        ("Le le chat", "Le chat"),
        ("les les fournisseurs.", "les fournisseurs."),
    ],
)
def test_stuttered_repetitions_are_collapsed(plain, expected):
    assert cleaned(plain) == expected


@pytest.mark.parametrize(
    "plain",
    ["nous nous sommes vus", "vous vous plaisez", "fournisseurs fournisseurs", "le lecteur", "la la-bas"],
)
def test_legitimate_repetitions_and_long_words_are_kept(plain):
    assert cleaned(plain) == plain


def test_stutter_on_a_reflexive_pronoun_keeps_the_pair():
    assert cleaned("nous nous nous sommes vus") == "nous nous sommes vus"


def test_repetition_kept_copy_is_the_first_one():
    plain = "le le chat"
    ct = clean_text(plain)
    assert ct.span(0, 2) == Span(0, 2)
    assert ct.span(3, 7) == Span(6, 10)


def test_cut_word_fragment_is_dropped_when_the_next_word_completes_it():
    assert cleaned("j'ai ac- acheté du vinaig- vinaigrière") == "j'ai acheté du vinaigrière"


def test_cut_word_fragment_without_completion_is_kept():
    assert cleaned("qui n- qui arrive") == "qui n- qui arrive"


def test_cut_word_mode_all_and_keep():
    assert cleaned("ce n- qui", cut_words="all") == "ce qui"
    assert cleaned("ac- acheté", cut_words="keep") == "ac- acheté"


def test_whitespace_is_collapsed_and_stripped():
    assert cleaned("  bon\n\n  alors   oui  ") == "bon alors oui"


def test_every_operation_can_be_switched_off():
    off = dict(normalize_unicode=False, fix_mojibake=False, quotes={}, normalize_spaces=False,
               dehyphenate=False, marks=[], timestamps=[], hesitations=["zzz"], cut_words="keep",
               repetitions=False, collapse_whitespace=False)
    plain = " l’a le le euh [rires] ac- acheté rÃ©union\u00a0coopé-\nration "
    assert cleaned(plain, **off) == plain


def test_offsets_carry_the_base_of_the_turn():
    ct = clean_text("euh bonjour", base=100)
    assert ct.text == "bonjour"
    assert ct.offsets[0] == 104
    assert ct.span(0, 7) == Span(104, 111)


def test_empty_and_all_removed_text_gives_empty_clean_text():
    for plain in ["", "   ", "euh", "[rires] (inaudible)"]:
        ct = clean_text(plain, base=7)
        assert ct.text == "" and ct.offsets == [] and ct.ends == []
        assert ct.span(0, 0) == Span(7, 7)


def test_span_refuses_a_range_outside_the_cleaned_text():
    with pytest.raises(IndexError):
        clean_text("bonjour").span(3, 99)


# --- properties ------------------------------------------------------------------------------

PIECES = [
    "le", "la", "les", "on", "nous", "vous", "je", "crois", "que", "réunion", "coopération", "été",
    "Élodie", "ça", "œuvre", "l’homme", "c'est", "euh", "heu", "hum", "hm", "hmm", "euuuh", "bah",
    "[rires]", "[rire]", "(inaudible)", "(.)", "(...)", "xxx", "XXX", "[00:12:03]", "(00:12)",
    "ac-", "acheté", "n-", "coopé-\nration", "«", "»", "“", "”", "😀", "🇫🇷", "cafe\u0301",
    "rÃ©union", "Ã§a", "â€™", ",", ".", "?", "...", "-", "'", "\u0301",
]
SEPARATORS = [" ", " ", " ", "\n", "  ", "\u00a0", "\u202f", ""]
pieces = st.one_of(st.sampled_from(PIECES), st.text(min_size=1, max_size=6).filter(lambda s: "\r" not in s))
texts = st.lists(st.tuples(pieces, st.sampled_from(SEPARATORS)), max_size=30).map(
    lambda items: "".join(p + s for p, s in items)
)


def normalised_forms(src: str, token: str = "") -> list[str]:
    """What `src` may become; ftfy decides on the whole word (`token`), so its fix counts too."""
    forms = [src, unicodedata.normalize("NFC", src)]
    forms += [ftfy.fix_encoding(f) for f in forms]
    forms += [ftfy.fix_encoding(token), ftfy.fix_encoding(token.replace("Ã ", "Ã\xa0"))]
    forms.append(ftfy.fix_encoding(src + "\xa0"))  # "Ã " is "à" whose non-breaking space was lost
    # the cleaner fixes mojibake token by token: a span joined across a space (a repetition removed)
    # holds tokens fixed separately
    tokens = src.split(" ")
    if len(tokens) <= 4:
        forms += [" ".join(choice) for choice in itertools.product(*[(t, ftfy.fix_encoding(t)) for t in tokens])]
    forms += [unicodedata.normalize("NFC", f) for f in forms]
    table = str.maketrans(QUOTES)
    forms += [f.translate(table) for f in forms]
    return forms + [f.lower() for f in forms]


def token_around(plain: str, start: int, end: int) -> str:
    """The whitespace-delimited run(s) of `plain` around [start, end)."""
    a = start
    while a > 0 and not plain[a - 1].isspace():
        a -= 1
    b = max(end, start + 1)
    while b < len(plain) and not plain[b].isspace():
        b += 1
    return plain[a:b]


def is_subsequence(word: str, text: str) -> bool:
    it = iter(text)
    return all(ch in it for ch in word)


@settings(max_examples=300, deadline=None)
@given(texts, st.integers(min_value=0, max_value=10_000))
def test_every_cleaned_character_maps_back_to_its_source(plain, base):
    ct = clean_text(plain, base=base)
    n = len(ct.text)
    assert len(ct.offsets) == n and len(ct.ends) == n
    assert ct.offsets == sorted(ct.offsets)
    for k, ch in enumerate(ct.text):
        assert base <= ct.offsets[k] <= ct.ends[k] <= base + len(plain)
        if ch == " ":  # a normalised separator: from a space, a line break or a removed mark
            continue
        a, b = ct.offsets[k] - base, ct.ends[k] - base
        forms = normalised_forms(plain[a:b], token_around(plain, a, b))
        assert any(ch in f or ch.lower() in f for f in forms), (ch, plain[a:b])


@settings(max_examples=300, deadline=None)
@given(texts, st.integers(min_value=0, max_value=10_000))
def test_every_cleaned_word_maps_to_a_plain_substring_holding_it(plain, base):
    ct = clean_text(plain, base=base)
    for i, j in ct.words():
        span = ct.span(i, j)
        assert base <= span.start < span.end <= base + len(plain)
        source = span.shift(-base).of(plain)
        word = ct.text[i:j]
        forms = normalised_forms(source, token_around(plain, span.start - base, span.end - base))
        norm = max(forms, key=lambda f: is_subsequence(word.lower(), f.lower()))
        assert is_subsequence(word.lower(), norm.lower()), (word, source)
        assert source[0] == plain[ct.offsets[i] - base]


@given(texts)
def test_base_only_shifts_offsets(plain):
    a, b = clean_text(plain), clean_text(plain, base=42)
    assert a.text == b.text
    assert [o + 42 for o in a.offsets] == b.offsets


def test_words_never_start_or_end_inside_a_plain_word():
    plain = "alors euh on on a ac- acheté le le matériel [rires] chez Dupont-Martin coopé-\nration"
    ct = clean_text(plain)
    for i, j in ct.words():
        span = ct.span(i, j)
        assert span.start == 0 or not re.match(r"\w", plain[span.start - 1])
        assert span.end == len(plain) or not re.match(r"\w", plain[span.end])
