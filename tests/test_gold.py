"""Gold coding is spans of the plain text; validation says what is wrong, and the overlap rule
turns spans into passage labels independently of how the passages were cut."""
import json

import pytest

from pipeline.core.codebook import load_codebook
from pipeline.core.errors import GoldError
from pipeline.core.gold import GoldSpan, passage_labels, read_gold, validate_gold
from pipeline.core.spans import Span
from pipeline.core.transcript import Passage, Transcript, Turn

TEXT = ("Enquêtrice : Vous travaillez avec vos voisins ?\n"
        "M. Perrin : Avec les gars d'à côté on se connaît depuis l'école. Mais le brevet on l'a déposé seuls.\n")


def transcript():
    q0 = TEXT.index("Vous")
    r0 = TEXT.index("Avec")
    return Transcript("E99", "E99.txt", "txt", TEXT, [
        Turn("Enquêtrice", Span(q0, TEXT.index("\n")), "interviewer"),
        Turn("M. Perrin", Span(r0, len(TEXT) - 1), "interviewee"),
    ])


def span_of(words, codes, coder="coder1"):
    s = TEXT.index(words)
    return GoldSpan("E99", Span(s, s + len(words)), tuple(codes), coder, words)


def test_valid_gold_passes():
    cb = load_codebook()
    gs = [span_of("Avec les gars d'à côté on se connaît depuis l'école.", ["proximite", "confiance"])]
    assert validate_gold(gs, {"E99": transcript()}, cb) == []


@pytest.mark.parametrize("span,message", [
    (GoldSpan("E42", Span(0, 3), ("tacite",), "c"), "document 'E42' has no transcript"),
    (GoldSpan("E99", Span(10, 10_000), ("tacite",), "c"), "offsets out of range"),
    (GoldSpan("E99", Span(60, 70), ("innovation_sociale",), "c"), "unknown code"),
    (GoldSpan("E99", Span(20, 70), ("tacite",), "c"), "crosses turns of several speakers"),
    (GoldSpan("E99", Span(60, 70), ("tacite",), "c", "not the text"), "does not match the transcript"),
])
def test_each_gold_error_is_named(span, message):
    with pytest.raises(GoldError, match=message):
        validate_gold([span], {"E99": transcript()}, load_codebook(), where="corpus/gold/coder1.jsonl")


def test_read_gold_reports_the_bad_line(tmp_path):
    f = tmp_path / "coder1.jsonl"
    good = {"doc": "E99", "start": 1, "end": 5, "codes": ["tacite"], "coder": "coder1"}
    f.write_text(json.dumps(good) + "\n{\"doc\": \"E99\", \"start\": 3}\n", encoding="utf-8")
    with pytest.raises(GoldError, match="line 2: not a gold span"):
        read_gold(f)
    f.write_text(json.dumps(good) + "\n", encoding="utf-8")
    assert read_gold(tmp_path)[0].span == Span(1, 5)


def passage(start, end):
    return Passage(f"E99:{start}-{end}", "E99", "M. Perrin", "interviewee", Span(start, end), TEXT[start:end],
                   TEXT[start:end])


def test_overlap_rule_most_of_passage_or_most_of_span():
    r0 = TEXT.index("Avec")
    mid = TEXT.index("Mais")
    end = len(TEXT) - 1
    whole, first, second = passage(r0, end), passage(r0, mid), passage(mid, end)
    gs = [span_of("on se connaît depuis l'école.", ["confiance"]),
          span_of("le brevet on l'a déposé seuls", ["explicite"])]
    labels = passage_labels([whole, first, second], gs)
    # the span lies entirely in the passage, even if it covers a small part of it
    assert labels[whole.id] == {"confiance", "explicite"}
    assert labels[first.id] == {"confiance"}
    assert labels[second.id] == {"explicite"}


def test_a_span_that_only_grazes_a_passage_does_not_label_it():
    r0 = TEXT.index("Avec")
    long_span = span_of("Avec les gars d'à côté on se connaît depuis l'école. Mais le brevet", ["proximite"])
    tail = passage(TEXT.index("Mais"), len(TEXT) - 1)
    head = passage(r0, TEXT.index("Mais"))
    labels = passage_labels([head, tail], [long_span])
    assert labels[head.id] == {"proximite"}  # covers all of it
    assert labels[tail.id] == set()          # a few words of a long span, a small part of the passage
