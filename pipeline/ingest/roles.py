"""Speaker roles: who is the interviewer, who is interviewed (the speech that gets coded), who is other.

Sources, most specific first, each deciding the speakers the previous ones left open:
1. metadata — the document's `<file>.meta.yaml` (`interviewer: [...]`, `interviewee: [...]`);
2. format   — a convention that says it (em-dash turns: the first speaker is the interviewer);
3. config   — role aliases of configs/speakers.yaml (Q, INT, Enquêtrice → interviewer; R, P1 → interviewee);
4. heuristic — among the undecided speakers who take at least 10 % of the turns, the one whose
   speech is densest in questions (turns with "?", "est-ce que", or opening with comment,
   pourquoi, quel...; counted per word, since long answers hold questions too) is the
   interviewer; when the two densest are within `clear_margin` (×1.5) of each other, the one who
   speaks first is (interviewers open the conversation). The speaker with the most words among
   the rest is the interviewee; any other speaker is an interviewee too if they say at least
   `co_interviewee_share` (10 %) of the interviewee's words or `co_interviewee_words` (40)
   words — a colleague who joins — and `other` below both (a bystander, a third person in a
   shop); but a further speaker who asks questions almost as densely as the interviewer
   (`co_interviewer_density`, ≥ 3 questions) is a second interviewer, as in ESLO's team interviews.

ESLO's shop recording MAG_290 is such a close call: the investigator (MLC), posing as a
customer, and the shopkeeper (DA740) each ask three questions in about 200 words; MLC opens the
conversation and is taken as the interviewer, the shopkeeper as the interviewee (whose speech
ESLO studies), and a third person who says five words is `other`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core.transcript import Transcript

if TYPE_CHECKING:  # at run time readers imports roles, not the other way round
    from .readers.speakers import SpeakerConfig

ROLE_KEYS = ("interviewer", "interviewee", "other")
_WORD_RE = re.compile(r"[^\W\d_][\w'-]*")
_TOKEN_RE = re.compile(r"\S*\w\S*")  # a word: "!" and "?" alone (French spacing) are not


# Only speakers with at least this share of the turns may be taken for the interviewer: a
# bystander's single "ah bon ?" must not make them the densest asker.
MAIN_SPEAKER_TURN_SHARE = 0.10


@dataclass
class SpeakerStats:
    words: int = 0
    turns: int = 0
    questions: int = 0  # turns that ask something

    @property
    def question_density(self) -> float:
        """Question turns per word: long answers hold a few questions too, interviewers many."""
        return self.questions / self.words if self.words else 0.0


def assign_roles(transcript: Transcript, config: "SpeakerConfig") -> None:
    """Fill `Turn.role` for every turn and say how in `transcript.role_method`.

    Idempotent: roles are recomputed from the transcript's metadata and speakers each time.
    """
    from .readers.labels import UNKNOWN_SPEAKER
    from .readers.speakers import speaker_key

    speakers = list(dict.fromkeys(t.speaker for t in transcript.turns if t.speaker != UNKNOWN_SPEAKER))
    decided: dict[str, str] = {}
    sources: list[str] = []

    def decide(speaker: str, role: str, source: str) -> None:
        if speaker not in decided and role in ROLE_KEYS:
            decided[speaker] = role
            if source not in sources:
                sources.append(source)

    by_key = {speaker_key(s): s for s in speakers}
    for role in ROLE_KEYS:
        for name in transcript.metadata.get(role) or []:
            speaker = by_key.get(speaker_key(str(name)))
            if speaker is not None:
                decide(speaker, role, "metadata")
            else:
                _warn_once(transcript, f"metadata names {role} {name!r}, but no speaker has that name")
    for speaker, role in (transcript.metadata.get("format_roles") or {}).items():
        if speaker in by_key.values():
            decide(speaker, role, _format_source(transcript))
    for speaker in speakers:
        role = config.alias_role(speaker)
        if role:
            decide(speaker, role, "config")

    notes: list[str] = []
    undecided = [s for s in speakers if s not in decided]
    if undecided:
        notes = _heuristic(transcript, config, undecided, decided)

    if not speakers and transcript.metadata.get("unlabelled") is not False:
        # No speaker is named anywhere (a monologue, a written answer): the whole text is taken as
        # the respondent's, so that it can be coded; `unlabelled: false` in a sidecar turns this off.
        decided[UNKNOWN_SPEAKER] = "interviewee"
        sources.append("no speaker labels: the whole text is taken as the interviewee's")
    for turn in transcript.turns:
        turn.role = decided.get(turn.speaker, "unknown")  # type: ignore[assignment]
    method = " + ".join(sources)
    if notes:
        method = (method + " + " if method else "") + "heuristic: " + "; ".join(notes)
    transcript.role_method = method or "none: no speaker is named"


def is_question(text: str, config: "SpeakerConfig") -> bool:
    lowered = text.casefold().replace("’", "'")
    if any(phrase in lowered for phrase in config.heuristic.question_phrases):
        return True
    openers = {w.casefold() for w in config.heuristic.question_openers}
    return any(word in openers for word in _WORD_RE.findall(lowered[:80])[:3])


def speaker_stats(transcript: Transcript, config: "SpeakerConfig") -> dict[str, SpeakerStats]:
    stats: dict[str, SpeakerStats] = {}
    for turn in transcript.turns:
        text = transcript.turn_text(turn)
        s = stats.setdefault(turn.speaker, SpeakerStats())
        s.words += len(_TOKEN_RE.findall(text))
        s.turns += 1
        s.questions += is_question(text, config)
    return stats


def _heuristic(transcript: Transcript, config: "SpeakerConfig", undecided: list[str],
               decided: dict[str, str]) -> list[str]:
    stats = speaker_stats(transcript, config)
    notes: list[str] = []
    left = list(undecided)  # in order of first appearance, so ties go to the earlier speaker

    if "interviewer" not in decided.values():
        found = _likely_interviewer(left, stats, config, interviewee_known="interviewee" in decided.values())
        if found is not None:
            chosen, why = found
            notes.append(f"{chosen} {why} → interviewer")
            decided[chosen] = "interviewer"
            left.remove(chosen)

    if left and "interviewee" not in decided.values():
        chosen = max(left, key=lambda s: stats[s].words)
        notes.append(f"{chosen} speaks the most words ({stats[chosen].words}) → interviewee")
        decided[chosen] = "interviewee"
        left.remove(chosen)

    asker = [stats[s].question_density for s, r in decided.items() if r == "interviewer" and s in stats]
    answer = [stats[s].question_density for s, r in decided.items() if r == "interviewee" and s in stats]
    if asker and answer:
        bar = max(config.heuristic.co_interviewer_density * max(asker), 2 * max(answer))
        for speaker in list(left):
            st = stats[speaker]
            if st.questions >= config.heuristic.co_interviewer_questions and st.question_density >= bar:
                decided[speaker] = "interviewer"
                notes.append(f"{speaker} also asks questions ({st.questions} in {st.words} words) → interviewer")
                left.remove(speaker)
    main_words = max((stats[s].words for s, r in decided.items() if r == "interviewee" and s in stats), default=0)
    enough = min(config.heuristic.co_interviewee_share * main_words, config.heuristic.co_interviewee_words)
    for speaker in left:
        joins = main_words > 0 and stats[speaker].words >= enough
        decided[speaker] = "interviewee" if joins else "other"
        notes.append(f"{speaker} ({stats[speaker].words} words) → {decided[speaker]}")
    return notes


def _likely_interviewer(speakers: list[str], stats: dict[str, SpeakerStats], config: "SpeakerConfig",
                        interviewee_known: bool) -> tuple[str, str] | None:
    """The speaker whose speech is densest in questions, among those who take a fair share of
    the turns; in a close call, the one who speaks first (interviewers open the conversation).
    None when nobody is left to be the interviewer: a monologue, perhaps with interjections."""
    total_turns = sum(stats[s].turns for s in speakers)
    main = [s for s in speakers if stats[s].turns >= MAIN_SPEAKER_TURN_SHARE * total_turns]
    if interviewee_known and len(main) == 1:
        return main[0], "is the only other main speaker"
    if len(main) < 2:
        return None
    best, runner_up = sorted(main, key=lambda s: -stats[s].question_density)[:2]  # stable: ties keep order
    if stats[best].question_density > config.heuristic.clear_margin * stats[runner_up].question_density:
        return best, (f"asks the most questions for the words said ({stats[best].questions} questions "
                      f"in {stats[best].words} words)")
    first = next(s for s in speakers if s in (best, runner_up))
    return first, f"speaks first, and asks about as many questions as {best if first != best else runner_up}"


def _format_source(transcript: Transcript) -> str:
    if transcript.metadata.get("turn_layout") == "dash":
        return "format: dash turns, the first speaker is the interviewer"
    return "format"


def _warn_once(transcript: Transcript, message: str) -> None:
    if message not in transcript.warnings:
        transcript.warnings.append(message)
