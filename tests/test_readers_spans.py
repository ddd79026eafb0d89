"""Whatever the format, every turn's span points at words the speaker said: inside the plain
text, in order, without the label, without surrounding blank space."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.core.errors import InputFileError
from pipeline.ingest.readers import SUPPORTED_EXTENSIONS, read_transcript
from pipeline.core.transcript import ROLES, Transcript

DATA = Path(__file__).parent / "data"
FIXTURES = sorted(p for p in DATA.rglob("*") if p.suffix in SUPPORTED_EXTENSIONS and p.name != "README.md")


def assert_spans_point_at_speech(t: Transcript) -> None:
    previous_end = 0
    for turn in t.turns:
        said = t.turn_text(turn)
        assert turn.span.start >= previous_end and turn.span.end <= len(t.text)
        assert said and said == said.strip()
        assert turn.role in ROLES and turn.speaker
        previous_end = turn.span.end
    assert t.role_method


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_every_fixture_file_has_well_formed_turns(path):
    t = read_transcript(path)

    assert_spans_point_at_speech(t)
    assert t.doc_id == path.stem
    assert Transcript.from_dict(t.to_dict()) == t  # what the next stage will read back


def test_a_caller_may_choose_the_document_id():
    t = read_transcript(DATA / "txt" / "entretien_int.txt", doc_id="E08")

    assert t.doc_id == "E08"


def test_the_extension_is_matched_whatever_its_case(tmp_path):
    path = tmp_path / "ENTRETIEN.TXT"
    path.write_text("Q : Oui ?\nR : Oui.\n", encoding="utf-8")

    assert read_transcript(path).format == "txt"


LINE = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=60),
    st.builds(lambda name, sep, said: f"{name}{sep}{said}",
              st.sampled_from(["Q", "R", "INT", "Bernard Perrin", "Alors là je", "**Enquêtrice :**", "— ",
                               "[00:01:02] Anne", "Anne (00:01:02)", "P1", "Date"]),
              st.sampled_from([" : ", ": ", " :", " — ", ""]),
              st.text(max_size=40)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(LINE, min_size=1, max_size=12), newline=st.sampled_from(["\n", "\r\n", "\r"]))
def test_any_text_file_gives_well_formed_turns_or_a_clear_error(tmp_path, lines, newline):
    path = tmp_path / "fuzz.txt"
    path.write_bytes(newline.join(lines).encode("utf-8"))

    try:
        t = read_transcript(path)
    except InputFileError as e:
        assert str(path) in str(e)
        return
    assert_spans_point_at_speech(t)
    assert "\r" not in t.text
