"""Speaker roles: from role aliases, from a metadata file beside the transcript, and by a
heuristic when nothing names them."""
from __future__ import annotations

import json
from pathlib import Path

from pipeline.ingest.readers import load_speaker_config, read_transcript
from pipeline.ingest.roles import assign_roles

ESLO = Path(__file__).parent / "data" / "eslo"


def write(tmp_path: Path, text: str, name: str = "entretien.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def roles(t) -> dict[str, str]:
    return {turn.speaker: turn.role for turn in t.turns}


CLAIRE_AND_BERNARD = (
    "Claire Martin : Bonjour. Comment avez-vous commencé ?\n"
    "Bernard Perrin : Avec mon père, dans le garage, deux tours et beaucoup de travail le soir.\n"
    "Claire Martin : Et vos voisins, vous les voyez ?\n"
    "Bernard Perrin : Tous les vendredis au café, on parle boulot, on se dépanne.\n"
)


def test_role_aliases_decide_the_roles():
    t = read_transcript(Path(__file__).parent / "data" / "txt" / "entretien_int.txt")

    assert roles(t) == {"INT": "interviewer", "P1": "interviewee"}
    assert t.role_method == "config"


def test_a_metadata_file_beside_the_transcript_names_the_roles(tmp_path):
    path = write(tmp_path, CLAIRE_AND_BERNARD)
    write(tmp_path, "interviewer: claire martin\ninterviewee: [Bernard Perrin]\ndate: 2023-03-14\n",
          "entretien.txt.meta.yaml")

    t = read_transcript(path)

    assert roles(t) == {"Claire Martin": "interviewer", "Bernard Perrin": "interviewee"}
    assert t.role_method == "metadata"
    assert t.metadata["date"] == "2023-03-14" and t.metadata["metadata_file"] == "entretien.txt.meta.yaml"


def test_metadata_in_json_overrides_an_alias_and_unknown_names_are_reported(tmp_path):
    path = write(tmp_path, "Q : Vous êtes la gérante ?\nR : Oui.\nQ : Depuis quand ?\nR : 2010.\n")
    (tmp_path / "entretien.meta.json").write_text(json.dumps({"other": ["R"], "interviewee": ["Sophie"]}),
                                                   encoding="utf-8")

    t = read_transcript(path)

    assert roles(t) == {"Q": "interviewer", "R": "other"}
    assert t.role_method == "metadata + config"
    assert any("'Sophie'" in w for w in t.warnings)


def test_without_aliases_the_questioner_is_the_interviewer_and_the_talker_the_interviewee(tmp_path):
    t = read_transcript(write(tmp_path, CLAIRE_AND_BERNARD))

    assert roles(t) == {"Claire Martin": "interviewer", "Bernard Perrin": "interviewee"}
    assert t.role_method.startswith("heuristic: Claire Martin asks the most questions")


def test_the_interviewer_need_not_speak_first_nor_least(tmp_path):
    text = ("Bernard Perrin : ... et donc voilà pour l'histoire.\n"
            "Claire Martin : Et aujourd'hui, comment ça se passe avec les clients ? Est-ce que vous avez "
            "des contrats longs ? Pourquoi pas plus de clients étrangers ?\n"
            "Bernard Perrin : Bah c'est au coup par coup.\n"
            "Claire Martin : Pourquoi ?\n"
            "Bernard Perrin : Parce qu'ils changent d'acheteur tous les deux ans, alors la confiance, il faut "
            "la refaire à chaque fois, c'est épuisant.\n")

    t = read_transcript(write(tmp_path, text))

    assert roles(t) == {"Claire Martin": "interviewer", "Bernard Perrin": "interviewee"}


def test_a_colleague_who_joins_is_an_interviewee_and_a_passer_by_is_other(tmp_path):
    text = CLAIRE_AND_BERNARD + (
        "Martine Perrin : Et moi je fais les devis, je connais tous les acheteurs, ça compte aussi.\n"
        "Livreur : Bonjour !\n"
        "Bernard Perrin : Oui, ma femme tient les comptes et les clients, moi l'atelier et les machines.\n"
        "Martine Perrin : Voilà, chacun son rôle.\n"
        "Livreur : Bonjour !\n")

    t = read_transcript(write(tmp_path, text))

    assert roles(t) == {"Claire Martin": "interviewer", "Bernard Perrin": "interviewee",
                        "Martine Perrin": "interviewee", "Livreur": "other"}


def test_nobody_asking_anything_makes_the_first_speaker_the_interviewer(tmp_path):
    text = ("Anne : Bon, on commence.\nLuc : Je suis arrivé en 1990 dans la vallée, chez un décolleteur.\n"
            "Anne : Hm hm.\nLuc : Et puis j'ai monté ma boîte.\n")

    t = read_transcript(write(tmp_path, text))

    assert roles(t) == {"Anne": "interviewer", "Luc": "interviewee"}
    assert "speaks first" in t.role_method


def test_a_single_named_speaker_is_the_interviewee(tmp_path):
    t = read_transcript(write(tmp_path, "Luc : Je suis arrivé en 1990.\nLuc : Puis j'ai monté ma boîte.\n"))

    assert roles(t) == {"Luc": "interviewee"}


def test_the_eslo_shop_recording_has_a_documented_answer():
    t = read_transcript(ESLO / "ESLO1_MAG_290_C.trs")

    # the investigator posing as a customer and the shopkeeper ask as many questions (3 each);
    # the one who opens the conversation is taken as the interviewer, the third person is other
    assert roles(t) == {"MLC": "interviewer", "DA740": "interviewee", "CS": "other"}
    assert t.role_method.startswith("heuristic: MLC speaks first")
    assert "CS (5 words) → other" in t.role_method


def test_assigning_roles_again_gives_the_same_answer(tmp_path):
    path = write(tmp_path, CLAIRE_AND_BERNARD)
    write(tmp_path, "interviewee: [Bernard Perrin]\n", "entretien.meta.yaml")
    t = read_transcript(path)
    before = ([turn.role for turn in t.turns], t.role_method, list(t.warnings))

    assign_roles(t, load_speaker_config())

    assert ([turn.role for turn in t.turns], t.role_method, t.warnings) == before
    assert t.role_method == "metadata + heuristic: Claire Martin is the only other main speaker → interviewer"


def test_a_monologue_with_a_passing_remark_has_no_interviewer(tmp_path):
    story = "".join(f"Luc : Et en {year} on a acheté une machine de plus.\n" for year in range(1990, 2010))
    t = read_transcript(write(tmp_path, story + "Voisin : Salut Luc !\n" + story))

    assert roles(t) == {"Luc": "interviewee", "Voisin": "other"}


def test_a_colleague_who_says_a_little_in_a_long_interview_is_still_an_interviewee(tmp_path):
    answer = "Bernard Perrin : " + "On travaille avec les voisins depuis toujours, c'est comme ça ici. " * 30 + "\n"
    colleague = ("Martine Perrin : Moi je m'occupe des devis et des relances, et je peux vous dire que les "
                 "acheteurs allemands ne rappellent jamais, alors que les gens d'ici passent à l'atelier "
                 "pour un oui ou pour un non, et ça, ça fait toute la différence pour nous.\n")
    t = read_transcript(write(tmp_path, "Claire Martin : Et vos voisins ?\n" + answer
                              + "Claire Martin : Et vous, madame ?\n" + colleague + answer))

    assert roles(t)["Martine Perrin"] == "interviewee"


def test_a_second_interviewer_who_keeps_asking_is_an_interviewer(tmp_path):
    # ESLO's teams interviewed in twos: the second asks fewer questions than the first, far more
    # than the interviewee
    answer = "alors on travaille avec les gens d'ici depuis longtemps et ça marche bien voilà " * 3
    lines = ["PB : Comment avez-vous commencé ?", f"PERS : {answer}",
             "JR : Et pourquoi à Orléans ?", f"PERS : {answer}",
             "PB : Quel était votre premier poste ?", f"PERS : {answer}",
             "JR : Est-ce que vous aviez des collègues ? Et vos voisins ?", f"PERS : {answer}",
             "PB : Combien étiez-vous ?", f"PERS : {answer}",
             "JR : Et maintenant, comment ça se passe ? vous êtes content ?", f"PERS : {answer}"]
    t = read_transcript(write(tmp_path, "\n".join(lines) + "\n"))
    assert roles(t) == {"PB": "interviewer", "PERS": "interviewee", "JR": "interviewer"}
    assert "JR also asks questions" in t.role_method


def test_eslo_team_interviews_get_their_second_interviewers(tmp_path):
    src = Path(__file__).parent.parent / "corpus" / "real" / "transcripts" / "ESLO1_INTPERS_415_C.trs"
    copy = tmp_path / src.name  # without its metadata file: the heuristic alone
    copy.write_bytes(src.read_bytes())
    assert roles(read_transcript(copy)) == {"PB": "interviewer", "415PERS": "interviewee", "BV": "interviewer"}
