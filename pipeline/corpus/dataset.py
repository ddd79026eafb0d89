"""The bundled corpus: build it from the authoring files, load it with its gold and splits.

`build_corpus` renders each `corpus/authoring/*.interview` into a transcript file, reads it back
with codeur's own readers and locates every coded segment in the plain text, so the gold spans
(`corpus/gold/coder1.jsonl`) are offsets into exactly what `codeur prepare` sees. A second coder's
coding (`corpus/coding2/<ID>.jsonl`, quotes + codes) is located the same way (`coder2.jsonl`).
"""
from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence

from pydantic import BaseModel, ConfigDict

from ..core.atomic import atomic_open, write_jsonl
from ..core.codebook import Codebook, load_codebook
from ..core.config import load_config
from ..core.csvfile import read_cases as read_case_table
from ..core.errors import ConfigError, GoldError
from ..core.gold import GoldSpan, passage_labels, read_gold, validate_gold
from ..core.spans import Span
from ..core.transcript import Passage, Transcript
from .authoring import AuthoredInterview, parse_authoring

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "corpus"
CASE_COLUMNS = ("doc_id", "actor_type", "activity", "market", "headcount", "organisation",
                "interviewee", "render", "punctuation")
SPLITS = ("train", "dev", "test")


def locate(text: str, needle: str, start: int = 0, end: int | None = None) -> Span | None:
    """Find `needle` in text[start:end], tolerant to whitespace differences; first match or None."""
    words = needle.split()
    if not words:
        return None
    pattern = r"\s+".join(re.escape(w) for w in words)
    m = re.compile(pattern).search(text, start, len(text) if end is None else end)
    return Span(m.start(), m.end()) if m else None


def _spans_for(iv: AuthoredInterview, tr: Transcript) -> list[GoldSpan]:
    if len(iv.turns) != len(tr.turns):
        raise GoldError(f"the rendered transcript has {len(tr.turns)} turns, the authoring file {len(iv.turns)}",
                        path=str(iv.path))
    out: list[GoldSpan] = []
    for a, t in zip(iv.turns, tr.turns):
        cursor = t.span.start
        for seg in a.segments:
            sp = locate(tr.text, seg.text, cursor, t.span.end)
            if sp is None:
                raise GoldError(f"coded segment not found in turn {t.speaker!r}: {seg.text[:60]!r}",
                                path=str(iv.path))
            out.append(GoldSpan(tr.doc_id, sp, tuple(seg.codes), "coder1", sp.of(tr.text)))
            cursor = sp.end
    return out


def build_corpus(authoring_dir: Path = CORPUS / "authoring", corpus_dir: Path = CORPUS) -> dict[str, int]:
    """Render every authored interview, write gold spans of coder 1 and `cases.csv`."""
    from ..ingest.readers import read_transcript
    from .render import render_interview

    files = sorted(Path(authoring_dir).glob("*.interview"))
    if not files:
        raise ConfigError("no *.interview files", path=str(authoring_dir))
    transcripts_dir = corpus_dir / "transcripts"
    transcripts_dir.mkdir(parents=True, exist_ok=True)
    spans: list[GoldSpan] = []
    cases: list[dict[str, str]] = []
    transcripts: dict[str, Transcript] = {}
    for f in files:
        iv = parse_authoring(f)
        for old in transcripts_dir.glob(f"{iv.id}.*"):
            old.unlink()
        path = render_interview(iv, transcripts_dir)
        tr = read_transcript(path)
        transcripts[tr.doc_id] = tr
        spans.extend(_spans_for(iv, tr))
        cases.append({c: (iv.id if c == "doc_id" else iv.header.get(c, "")) for c in CASE_COLUMNS})
    write_jsonl(corpus_dir / "gold" / "coder1.jsonl", (s.to_dict() for s in spans))
    with atomic_open(corpus_dir / "cases.csv") as fh:
        w = csv.DictWriter(fh, fieldnames=CASE_COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(cases)
    n2 = build_second_coding(corpus_dir, transcripts, Path(authoring_dir).parent / "coding2")
    return {"transcripts": len(files), "coder1_spans": len(spans), "coder2_spans": n2}


def build_second_coding(corpus_dir: Path, transcripts: Mapping[str, Transcript], src: Path | None = None) -> int:
    """Locate the second coder's quotes (`corpus/coding2/<ID>.jsonl`) in the plain texts."""
    src = src or corpus_dir / "coding2"
    if not src.is_dir():
        return 0
    spans: list[GoldSpan] = []
    for f in sorted(src.glob("*.jsonl")):
        doc = f.stem
        tr = transcripts.get(doc)
        if tr is None:
            raise GoldError(f"second coding for unknown document {doc!r}", path=str(f))
        cursor = 0
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            d = json.loads(line)
            sp = locate(tr.text, d["quote"], cursor) or locate(tr.text, d["quote"], 0)
            if sp is None:
                raise GoldError(f"line {n}: quote not found in the transcript: {d['quote'][:60]!r}", path=str(f))
            spans.append(GoldSpan(doc, sp, tuple(d["codes"]), "coder2", sp.of(tr.text)))
            cursor = sp.start
    write_jsonl(corpus_dir / "gold" / "coder2.jsonl", (s.to_dict() for s in spans))
    return len(spans)


# --- loading ------------------------------------------------------------------------------------

def splits_file(corpus_dir: Path) -> Path:
    """A corpus folder's own `splits.yaml` (corpus/real has one), else `configs/splits.yaml`."""
    own = Path(corpus_dir) / "splits.yaml"
    return own if own.is_file() else REPO / "configs" / "splits.yaml"


class SplitsFile(BaseModel):
    """`splits.yaml`: the interviews (doc ids) of each split."""

    model_config = ConfigDict(extra="forbid")

    train: Optional[list[str | int]] = None
    dev: Optional[list[str | int]] = None
    test: Optional[list[str | int]] = None
    notes: Any = None


class CodersFile(BaseModel):
    """`coders.yaml` of a corpus folder: the coders who coded every interview of it."""

    model_config = ConfigDict(extra="forbid")

    complete: Optional[list[str | int]] = None


def load_splits(path: Path = REPO / "configs" / "splits.yaml") -> dict[str, str]:
    """doc id → split name. Splits are by interview, never by passage."""
    data = load_config(path, SplitsFile, what="splits file", hint="the splits are train, dev and test")
    out: dict[str, str] = {}
    for split in SPLITS:
        for doc in getattr(data, split) or []:
            doc = str(doc)
            if doc in out:
                raise ConfigError(f"interview {doc} is in both {out[doc]} and {split}", path=str(path))
            out[doc] = split
    return out


@dataclass
class Corpus:
    codebook: Codebook
    transcripts: dict[str, Transcript]
    passages: list[Passage]
    gold: dict[str, list[GoldSpan]]          # coder → spans
    labels: dict[str, dict[str, set[str]]]   # coder → passage id → codes
    splits: dict[str, str]                   # doc id → split
    cases: dict[str, dict[str, str]] = field(default_factory=dict)
    primary: str = "coder1"                  # the coding that covers every interview (the gold)

    def coder(self, name: str | None = None) -> str:
        """`name`, or the primary coding; a clear error when the corpus has no such coding."""
        name = name or self.primary
        if name not in self.labels:
            raise ConfigError(f"no coding by {name!r} in the corpus",
                              hint=f"coders there: {', '.join(self.labels) or 'none'}")
        return name

    def passages_of(self, split: str) -> list[Passage]:
        return [p for p in self.passages if self.splits.get(p.doc_id) == split]

    def multi_hot(self, passages: Sequence[Passage], coder: str = "coder1") -> list[list[int]]:
        codes = self.codebook.codes
        lab = self.labels[coder]
        return [[int(c in lab.get(p.id, ())) for c in codes] for p in passages]


def read_cases(path: Path) -> dict[str, dict[str, str]]:

    if not path.exists():
        return {}
    return read_case_table(path)


def load_corpus(corpus_dir: Path = CORPUS, *, codebook: Codebook | None = None,
                splits_path: Path | None = None, segmenter=None, primary: str | None = None) -> Corpus:
    """Read the corpus transcripts, segment them, and label the passages from every coder's gold.

    The `primary` coding (default: `coder1`, or `gold` where there is no coder1, as in the real part
    `corpus/real`) covers every interview: a passage it leaves uncoded is a negative. Another
    coder's labels cover only the interviews that coder coded."""
    from ..passages.prepare import prepare

    codebook = codebook or load_codebook()
    result = prepare([corpus_dir / "transcripts"], segmenter=segmenter)
    if result.failed:
        bad = result.failed[0]
        raise GoldError(f"corpus transcript unreadable: {bad.reason}", path=bad.path)
    transcripts = {t.doc_id: t for t in result.transcripts}
    spans = read_gold(corpus_dir / "gold")
    validate_gold(spans, transcripts, codebook, where=str(corpus_dir / "gold"))
    by_coder: dict[str, list[GoldSpan]] = defaultdict(list)
    for s in spans:
        by_coder[s.coder].append(s)
    if primary is None:
        primary = "coder1" if "coder1" in by_coder or "gold" not in by_coder else "gold"
    # coders who coded every interview (`coders.yaml`: complete: [...]): an interview where they
    # found nothing to code is all negatives, not "not coded"
    complete = {primary}
    coders_file = Path(corpus_dir) / "coders.yaml"
    if coders_file.is_file():
        declared = load_config(coders_file, CodersFile, what="coders file").complete or []
        complete.update(map(str, declared))
    labels: dict[str, dict[str, set[str]]] = {}
    for coder, cs in by_coder.items():
        docs = set(transcripts) if coder in complete else {s.doc_id for s in cs}
        ps = [p for p in result.passages if p.doc_id in docs]
        labels[coder] = passage_labels(ps, cs)
    splits_path = splits_path or splits_file(corpus_dir)
    splits = load_splits(splits_path)
    missing = sorted(set(splits) - set(transcripts))
    if missing:
        raise ConfigError(f"split lists unknown interview(s) {', '.join(missing)}", path=str(splits_path))
    return Corpus(codebook, transcripts, result.passages, dict(by_coder), labels, splits,
                  read_cases(corpus_dir / "cases.csv"), primary)


def to_dataset_dict(corpus: Corpus, coder: str = "coder1"):
    """The corpus as a Hugging Face `DatasetDict` (train/dev/test) with declared features."""
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Value
    from datasets import Sequence as HFSequence

    codes = corpus.codebook.codes
    features = Features({
        "id": Value("string"), "doc_id": Value("string"), "start": Value("int64"), "end": Value("int64"),
        "text": Value("string"), "clean_text": Value("string"), "question": Value("string"),
        "codes": HFSequence(ClassLabel(names=codes)),
        "labels": HFSequence(Value("float32"), length=len(codes)),
    })
    out = {}
    for split in SPLITS:
        ps = corpus.passages_of(split)
        hot = corpus.multi_hot(ps, coder)
        out[split] = Dataset.from_dict({
            "id": [p.id for p in ps], "doc_id": [p.doc_id for p in ps],
            "start": [p.span.start for p in ps], "end": [p.span.end for p in ps],
            "text": [p.text for p in ps], "clean_text": [p.clean_text for p in ps],
            "question": [p.question for p in ps],
            "codes": [[i for i, v in enumerate(h) if v] for h in hot],
            "labels": [[float(v) for v in h] for h in hot],
        }, features=features)
    return DatasetDict(out)


def corpus_rows(corpus: Corpus, coder: str = "coder1") -> Iterable[dict]:
    """The corpus as plain JSONL rows (one passage each, with codes and split)."""
    lab = corpus.labels[coder]
    for p in corpus.passages:
        d = p.to_dict()
        d["codes"] = sorted(lab.get(p.id, ()), key=corpus.codebook.codes.index)
        d["split"] = corpus.splits.get(p.doc_id, "")
        yield d


# --- statistics ---------------------------------------------------------------------------------

def shared_ngrams(texts_by_doc: Mapping[str, str], n: int = 8, min_docs: int = 4) -> tuple[int, float]:
    """Distinct word n-grams that occur in at least `min_docs` documents: (count, share of all)."""
    docs_of: Counter = Counter()
    for text in texts_by_doc.values():
        words = re.findall(r"\w+", text.lower())
        docs_of.update({tuple(words[i:i + n]) for i in range(len(words) - n + 1)})
    shared = sum(1 for c in docs_of.values() if c >= min_docs)
    return shared, (shared / len(docs_of) if docs_of else 0.0)


def corpus_stats(corpus: Corpus, coder: str = "coder1") -> dict:
    lab = corpus.labels[coder]
    ps = [p for p in corpus.passages if p.id in lab]  # a second coder codes only some interviews
    n_codes = [len(lab.get(p.id, ())) for p in ps]
    per_code = Counter(c for p in ps for c in lab.get(p.id, ()))
    vocab = {w for p in ps for w in re.findall(r"\w+", p.clean_text.lower())}
    texts = defaultdict(list)
    for p in ps:
        texts[p.doc_id].append(p.clean_text)
    split_counts = Counter(corpus.splits.get(p.doc_id, "unsplit") for p in ps)
    shared = shared_ngrams({d: " ".join(t) for d, t in texts.items()})
    return {
        "transcripts": len(corpus.transcripts),
        "interviewee_words": sum(p.n_words for p in ps),
        "passages": len(ps),
        "coded_passages": sum(1 for k in n_codes if k),
        "uncoded_passages": sum(1 for k in n_codes if not k),
        "codes_per_passage": round(sum(n_codes) / len(ps), 3) if ps else 0.0,
        "codes_per_coded_passage": round(sum(n_codes) / max(1, sum(1 for k in n_codes if k)), 3),
        "positives_per_code": {c: per_code.get(c, 0) for c in corpus.codebook.codes},
        "vocabulary_size": len(vocab),
        "shared_8grams_in_4plus_interviews": shared[0],
        "shared_8gram_share": round(shared[1], 5),
        "passages_per_split": dict(split_counts),
        "double_coded_interviews": sorted({s.doc_id for c, ss in corpus.gold.items() if c != "coder1" for s in ss}),
        "formats": dict(Counter(t.format for t in corpus.transcripts.values())),
    }


# --- the real part (corpus/real) ----------------------------------------------------------------

REAL = CORPUS / "real"
REAL_CODERS = (("A", "coderA"), ("B", "coderB"))


def build_real_gold(real_dir: Path = REAL) -> dict[str, int]:
    """Turn the two independent passage codings and the adjudication of their disagreements
    (`corpus/real/coding/{A,B,adjudication}/<DOC>.jsonl`, passage numbers of the coding packets,
    mapped to offsets by `coding/passage-index.json`) into gold spans of the plain texts:
    `gold/coderA.jsonl`, `gold/coderB.jsonl` and the adjudicated `gold/gold.jsonl`.

    Gold: the codes both coders gave a passage when they agree, the adjudicator's when they do not."""
    from ..passages.prepare import prepare

    src = Path(real_dir) / "coding"
    index_path = src / "passage-index.json"
    try:
        index: dict[str, dict[str, str]] = json.loads(index_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GoldError("passage index not found", path=str(index_path)) from None
    result = prepare([Path(real_dir) / "transcripts"])
    texts = {t.doc_id: t.text for t in result.transcripts}

    def read(folder: str, doc: str) -> dict[str, dict]:
        f = src / folder / f"{doc}.jsonl"
        if not f.exists():
            return {}
        out = {}
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
                pid, codes = str(d["p"]), [str(c) for c in d["codes"]]
            except (json.JSONDecodeError, KeyError, TypeError) as e:
                raise GoldError(f"line {n}: not a passage coding ({type(e).__name__})", path=str(f)) from None
            if pid not in index.get(doc, {}):
                raise GoldError(f"line {n}: unknown passage {pid} of {doc}", path=str(f))
            out[pid] = {"codes": codes, "why": str(d.get("why", ""))}
        return out

    def span_row(doc: str, pid: str, codes: list[str], coder: str, memo: str) -> dict:
        start, end = (int(x) for x in index[doc][pid].rsplit(":", 1)[1].split("-"))
        if doc not in texts or end > len(texts[doc]):
            raise GoldError(f"passage {pid} of {doc} is off the transcript", path=str(index_path))
        return {"doc": doc, "start": start, "end": end, "codes": codes, "coder": coder,
                "text": texts[doc][start:end], "memo": memo}

    docs = sorted(d for d in index if all((src / folder / f"{d}.jsonl").exists() for folder, _ in REAL_CODERS))
    counts: dict[str, int] = {}
    codings = {folder: {d: read(folder, d) for d in docs} for folder, _ in REAL_CODERS}
    for folder, coder in REAL_CODERS:
        rows = [span_row(d, pid, c["codes"], coder, c["why"]) for d in docs
                for pid, c in sorted(codings[folder][d].items()) if c["codes"]]
        counts[coder] = write_jsonl(Path(real_dir) / "gold" / f"{coder}.jsonl", rows)
    gold_rows, disputed, unresolved = [], 0, []
    for d in docs:
        a, b = codings["A"][d], codings["B"][d]
        adj = read("adjudication", d)
        for pid in sorted(set(a) | set(b), key=lambda p: int(p[1:])):
            ca, cb = sorted(a.get(pid, {}).get("codes", [])), sorted(b.get(pid, {}).get("codes", []))
            if ca == cb:
                codes, memo = ca, "accord des deux codeurs"
            elif pid in adj:
                disputed += 1
                codes, memo = adj[pid]["codes"], "arbitrage : " + adj[pid]["why"]
            else:
                unresolved.append(f"{d} {pid}")
                continue
            if codes:
                gold_rows.append(span_row(d, pid, codes, "gold", memo))
    if unresolved:
        raise GoldError(f"{len(unresolved)} disagreement(s) not adjudicated, e.g. {', '.join(unresolved[:3])}",
                        path=str(src / "adjudication"))
    counts["gold"] = write_jsonl(Path(real_dir) / "gold" / "gold.jsonl", gold_rows)
    counts["adjudicated"] = disputed
    counts["interviews"] = len(docs)
    return counts
