"""The corpus-level pass: mentions found in every document, every name found somewhere looked for
everywhere, then one pseudonym per distinct name across the whole corpus (`[PERSONNE_3]` is the
same person in every document)."""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from ...core.spans import Span
from .config import KINDS, PseudonymizeConfig, load_config, name_key
from .detect import (GAZETTEER_SOURCES, KIND_VOTE, PARTICLES, Detector, Lexicon, Mention, alternation, bounded,
                     is_cased, load_nlp, resolve)
from .mapping import PSEUDONYM_RE, MappingEntry, pseudonym_number
from .replace import OffsetMap, PseudonymizedDoc, Replacement, apply_replacements

@dataclass
class PseudonymizeResult:
    docs: dict[str, PseudonymizedDoc]
    mapping: list[MappingEntry]       # one row per distinct original surface form

    def counts_by_kind(self) -> dict[str, int]:
        c = Counter(r.kind for d in self.docs.values() for r in d.replacements)
        return {k: c[k] for k in [*KINDS, *sorted(set(c) - set(KINDS))] if c[k]}


class Pseudonymizer:
    """Detects mentions in every document, then replaces each distinct name by one pseudonym
    across the whole corpus. Load it once (the spaCy model takes a few seconds) and reuse it."""

    def __init__(self, config: PseudonymizeConfig | None = None, nlp=None, speaker_config=None):
        self.config = config or load_config()
        if nlp is None:
            nlp = load_nlp(self.config.model)
        self.nlp = nlp
        self.lexicon = Lexicon(nlp)
        self.detector = Detector(self.config, self.lexicon, speaker_config)

    def _ner(self, texts: Sequence[str], cased: Sequence[bool]) -> list[list[Mention]]:
        """NER on the lines of every text, batched with nlp.pipe; only the `ner` component runs."""
        chunks: list[tuple[int, int, str]] = []  # (text index, offset, line)
        for i, text in enumerate(texts):
            offset = 0
            for line in text.split("\n"):
                if line.strip():
                    chunks.append((i, offset, line))
                offset += len(line) + 1
        out: list[list[Mention]] = [[] for _ in texts]
        with self.nlp.select_pipes(enable=["ner"]):
            docs = self.nlp.pipe((c[2] for c in chunks), batch_size=self.config.batch_size)
            for (i, offset, _line), doc in zip(chunks, docs):
                for ent in doc.ents:
                    m = self.detector.ner_mention(texts[i], offset + ent.start_char, offset + ent.end_char,
                                                  ent.label_, cased[i])
                    if m is not None:
                        out[i].append(m)
        return out

    def run(self, texts: Mapping[str, str], user_mapping: Sequence[MappingEntry] = (),
            on_doc: Callable[[str], None] | None = None) -> PseudonymizeResult:
        doc_ids = sorted(texts)
        votes: dict[str, Counter] = defaultdict(Counter)
        ordered = [texts[d] for d in doc_ids]
        cased = [is_cased(t) for t in ordered]
        self.lexicon.learn_corpus(ordered)
        user = {name_key(e.original): e for e in user_mapping}
        # 1. what each document names, by rules, NER and the user's list
        ner = self._ner(ordered, cased)
        found: list[list[Mention]] = []
        for text, c, ents in zip(ordered, cased, ner):
            ms = self.detector.rule_mentions(text, cased=c) + ents
            ms += self._search(text, {k: e.kind for k, e in user.items()}, source="user",
                               forms=[e.original for e in user_mapping])
            for m in ms:  # every detector has its say on the kind, even where another one's span won
                votes[name_key(m.span.of(text))][m.kind] += KIND_VOTE[m.source]
            found.append(resolve(ms))
        # 2. every name found somewhere is looked for everywhere (NER misses, lower-case speech)
        gazetteer: dict[str, str] = {}
        for text, ms in zip(ordered, found):
            for m in ms:
                surface = m.span.of(text)
                if m.source in GAZETTEER_SOURCES and m.kind in ("PERSONNE", "ENTREPRISE", "LIEU", "USER"):
                    for form in self._gazetteer_forms(surface, m.kind):
                        gazetteer.setdefault(form, m.kind)
        kinds = {k: v.most_common(1)[0][0] for k, v in votes.items()}
        final: list[list[Mention]] = []
        for i, (doc_id, text, ms) in enumerate(zip(doc_ids, ordered, found)):
            extra = self._search(text, gazetteer, source="gazetteer", forms=list(gazetteer))
            final.append(resolve([*ms, *extra]))
            if on_doc:
                on_doc(doc_id)
        # 3. one pseudonym per distinct name, numbered in order of first appearance
        numbers: Counter = Counter()
        for e in user_mapping:
            m = PSEUDONYM_RE.match(e.replacement)
            if m:
                numbers[m.group(1)] = max(numbers[m.group(1)], int(m.group(2)))
        assigned: dict[str, MappingEntry] = {k: MappingEntry(e.original, e.replacement, e.kind)
                                             for k, e in user.items()}
        entries: dict[str, MappingEntry] = {}
        docs: dict[str, PseudonymizedDoc] = {}
        for doc_id, text, ms in zip(doc_ids, ordered, final):
            labels = self.detector.label_spans(text)
            reps: list[Replacement] = []
            for m in ms:
                surface = m.span.of(text)
                key = name_key(surface)
                kind = kinds.get(key, m.kind)
                if key not in assigned:
                    if kind == "USER":
                        kind = m.kind if m.kind != "USER" else "PERSONNE"
                    numbers[kind] += 1
                    assigned[key] = MappingEntry(surface, f"[{kind}_{numbers[kind]}]", kind)
                base = assigned[key]
                pseudonym = base.replacement
                if any(label.overlap(m.span) for label in labels):
                    # a speaker label must still read as a name to codeur's readers: no brackets
                    pseudonym = pseudonym.strip("[]")
                reps.append(Replacement(m.span, surface, pseudonym, base.kind))
                entry = entries.setdefault(surface, MappingEntry(surface, base.replacement, base.kind))
                entry.count += 1
            new_text = apply_replacements(text, reps)
            docs[doc_id] = PseudonymizedDoc(doc_id, new_text, reps, OffsetMap(reps))
        mapping = sorted(entries.values(), key=lambda e: (KINDS.index(e.kind) if e.kind in KINDS else 99,
                                                          pseudonym_number(e.replacement), e.original))
        return PseudonymizeResult(docs, mapping)

    def _gazetteer_forms(self, surface: str, kind: str) -> list[str]:
        """The name itself, and for a person's full name its parts (« Vuillet » of « Alain Vuillet »)."""
        forms = [surface] if len(name_key(surface)) >= 3 and not self.detector.is_kept(surface) else []
        words = surface.split()
        if kind == "PERSONNE" and len(words) > 1:
            for w in words:
                w = w.strip(".,")
                if len(w) >= 3 and name_key(w) not in PARTICLES and not self.detector.is_kept(w) \
                        and not self.lexicon.is_common(w) and name_key(w) not in self.detector.title_words:
                    forms.append(w)
        return forms

    def _search(self, text: str, kinds: Mapping[str, str], *, source: str, forms: Sequence[str]) -> list[Mention]:
        """Every occurrence of the known forms: without regard to case, except forms that are also
        common words (« Blanc », « Marin »), which must keep their capital letter."""
        if not forms:
            return []
        insensitive = [f for f in forms if not self._common_form(f)]
        sensitive = [f for f in forms if self._common_form(f)]
        out = []
        for group, flags in ((insensitive, re.IGNORECASE), (sensitive, 0)):
            if not group:
                continue
            rx = re.compile(bounded(f"(?:{alternation(group)})"), flags)
            for m in rx.finditer(text):
                kind = kinds.get(name_key(m.group()), kinds.get(m.group(), "PERSONNE"))
                if source == "gazetteer" and flags == 0 and self.detector.sentence_start(text, m.start()) \
                        and len(m.group().split()) == 1:
                    continue  # "Blanc, c'est..." at a sentence start: too ambiguous
                out.append(Mention(Span(m.start(), m.end()), kind, source))
        return out

    def _common_form(self, form: str) -> bool:
        words = [w for w in re.split(r"[\s'’]+", form) if w and name_key(w) not in PARTICLES]
        lex = self.lexicon
        if len(words) == 1 and lex.corpus_is_large:
            # the corpus knows best: « Cluses » is never written « cluses » (the dictionary has it as
            # a verb form), « blanc » is; a first name that is also a word (« Claire ») stays careful
            w = words[0]
            return lex.written_lowercase(w) or (self.detector.is_first_name(w) and lex.is_common(w))
        return all(lex.is_common(w) or lex.written_lowercase(w) for w in words)  # « Agence de l'eau »
