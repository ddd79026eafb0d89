"""Past one machine: `codeur prepare` and `codeur classify` on a Dask cluster, resumable.

`--engine dask` spreads the same work over `dask.distributed` workers: a local cluster
(`--workers N` processes, the default), an existing scheduler (`--scheduler ADDRESS`) or workers
started as SLURM jobs (`--slurm configs/slurm.yaml`, through dask-jobqueue).

- Partitions: one per input transcript file, and row ranges (`--rows-per-partition`) of a passages
  table. Each worker process loads the model (and the sentence model) once and keeps it.
- The result is the single-process run's, row for row and byte for byte: partitions are merged in
  input order, the rules that span files (a document id given twice) are applied at the merge, and
  a table's contexts (the passage before) are computed on the whole table before it is cut.
- Resumable: every finished partition is written atomically into a hidden folder beside the output,
  `.OUT.parts/` (`part-KEY.jsonl`, its first line saying what it holds), with `manifest.json`: for
  each partition its input (path, size, SHA-256, row range), the part file and its SHA-256. The
  manifest's header holds the stage, codeur's version, the model card's SHA-256 and the options that
  change results. Rerunning the command after an interruption (Ctrl-C, a lost node, kill -9) redoes
  only the partitions not yet done; an input file that changed since is redone (and said so);
  partial results of another model, codeur version or options are refused (`--fresh` discards
  them). Once the output is written, the folder is removed.
- A lost worker: Dask reruns its partitions on the others; a partition whose workers keep dying
  (`distributed.scheduler.allowed-failures`) stops the run with a message naming the file, the
  finished partitions kept for the rerun.

Workers read the inputs and the model folder by path: on a cluster of several machines they must
see the same files at the same absolute paths (a shared file system, as on HPC clusters).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import stat
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from .. import __version__
from ..core.atomic import atomic_open, write_json
from ..core.errors import (
    CodeurError,
    EngineError,
    InputFileError,
    ModelError,
    TableError,
)
from ..core.tables import read_rows

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
ENGINES = ("local", "dask")
#: rows of a passages table per partition
ROWS_PER_PARTITION = 20_000
#: the manifest is rewritten at most this often (part files finished in between are adopted on resume)
SAVE_EVERY_S = 1.0

Note = Callable[[str], None]


@dataclass
class DaskOptions:
    workers: int | None = None          # local cluster or SLURM: worker processes
    scheduler: str | None = None        # an existing dask.distributed scheduler
    slurm: Path | None = None           # a SLURM config file (configs/slurm.yaml)
    rows_per_partition: int = ROWS_PER_PARTITION
    fresh: bool = False                 # discard partial results of an earlier run
    processes: bool = True              # local cluster: one process per worker (False: threads)


def options(engine: str, *, workers: int | None = None, scheduler: str | None = None, slurm: Path | None = None,
            rows_per_partition: int = ROWS_PER_PARTITION, fresh: bool = False) -> DaskOptions | None:
    """The CLI's engine options, checked: None for the single-process run."""
    engine = (engine or "local").lower()
    if engine not in ENGINES:
        raise CodeurError(f"--engine {engine!r}: choose local or dask")
    if engine == "local":
        given = [name for name, v in (("--workers", workers), ("--scheduler", scheduler), ("--slurm", slurm),
                                      ("--fresh", fresh or None)) if v is not None]
        if given:
            raise CodeurError(f"{', '.join(given)} only go with --engine dask")
        return None
    if scheduler and slurm:
        raise CodeurError("--scheduler and --slurm: give one (an existing cluster, or workers started as SLURM jobs)")
    if scheduler and workers is not None:
        raise CodeurError("--workers starts a cluster; with --scheduler the cluster's own workers are used")
    if workers is not None and workers < 1:
        raise CodeurError(f"--workers {workers}: give at least 1")
    if rows_per_partition < 1:
        raise CodeurError(f"--rows-per-partition {rows_per_partition}: give at least 1")
    if slurm is not None:
        from .slurm import load_slurm_config

        load_slurm_config(slurm)  # a bad setting is refused before any work
    return DaskOptions(workers=workers, scheduler=scheduler, slurm=slurm, rows_per_partition=rows_per_partition,
                       fresh=fresh)


# --- inputs and partitions -------------------------------------------------------------------------

def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return "sha256:" + h.hexdigest()


def _digest(path: Path) -> tuple[int, str]:
    """Size and SHA-256 of an input; an unreadable file gets a marker (its worker reports the error)."""
    try:
        return path.stat().st_size, sha256_file(path)
    except OSError as e:
        return -1, f"unreadable:{e.errno}"


@dataclass(frozen=True)
class Partition:
    """A unit of work: one input file, or rows [a, b) of a passages table."""

    index: int
    shown: str          # the path as the user gave it (reports, `source`)
    absolute: str       # what a worker opens
    size: int
    sha256: str
    rows: tuple[int, int] | None = None

    @property
    def key(self) -> str:
        raw = json.dumps([self.absolute, self.size, self.sha256, list(self.rows) if self.rows else None])
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]

    @property
    def label(self) -> str:
        return self.shown + (f" (rows {self.rows[0] + 1}-{self.rows[1]})" if self.rows else "")

    def describe(self) -> dict[str, Any]:
        return {"input": self.absolute, "size": self.size, "sha256": self.sha256,
                "rows": list(self.rows) if self.rows else None}


def file_partitions(files: Sequence[Path], start: int = 0) -> list[Partition]:
    out = []
    for i, f in enumerate(files):
        size, sha = _digest(f)
        out.append(Partition(start + i, str(f), str(Path(f).absolute()), size, sha))
    return out


def _readable_path(shown: str, absolute: str) -> Path:
    """The path as given when it is the same file here (a local worker shares the command's folder:
    `source` fields come out as in the single-process run), else the absolute one."""
    p = Path(shown)
    with contextlib.suppress(OSError):
        if p.absolute() == Path(absolute) and p.exists():
            return p
    return Path(absolute)


# --- partial results beside the output ------------------------------------------------------------

def parts_folder(out: str | os.PathLike) -> Path:
    out = Path(out)
    return out.parent / f".{out.name}.parts"


def model_sha256(model_dir: str | os.PathLike) -> str:
    """The model card's SHA-256: the card lists the SHA-256 of every other file of the folder."""
    from .model import CARD

    return sha256_file(Path(model_dir) / CARD)


class PartStore:
    """`.OUT.parts/`: a part file per finished partition and `manifest.json`, listing them.

    Every file is written atomically (temporary file, then rename); the manifest is rewritten at
    most every `SAVE_EVERY_S` and when the run stops, and a part file finished after its last
    rewrite is adopted on resume when its first line names this run and one of its partitions."""

    def __init__(self, out: str | os.PathLike, header: dict[str, Any], *, fresh: bool = False,
                 note: Note | None = None):
        self.out = Path(out)
        self.folder = parts_folder(out)
        self.header = {"format": MANIFEST_FORMAT, **header}
        self.run_id = hashlib.sha256(json.dumps(self.header, sort_keys=True).encode()).hexdigest()[:32]
        self.fresh = fresh
        self.note = note or (lambda m: None)
        self.entries: dict[str, dict[str, Any]] = {}
        self._saved_at = 0.0
        self._dirty = False
        self.reused: list[str] = []       # partition keys finished by an earlier run

    # -- opening
    def _check_folder(self) -> None:
        try:
            st = os.lstat(self.folder)
        except FileNotFoundError:
            return
        if not stat.S_ISDIR(st.st_mode):
            raise EngineError(f"{self.folder.name} beside the output is not a folder (codeur keeps partial results "
                              "there)", path=str(self.folder), hint="remove it, or choose another --out")

    def open(self, partitions: Sequence[Partition]) -> list[Partition]:
        """Read what an earlier run finished; return the partitions still to do."""
        self._check_folder()
        if self.fresh and self.folder.exists():
            shutil.rmtree(self.folder)
            self.note(f"{self.out}: discarded the partial results of an earlier run (--fresh)")
        self.folder.mkdir(parents=True, exist_ok=True)
        # a kill -9 while a part was written: its temporary file and lock (the output's lock, held by
        # this run, keeps any other run out of the folder)
        stale = [f for f in self.folder.glob(".*") if f.is_file() and f.name.endswith((".tmp", ".lock"))]
        for f in stale:
            with contextlib.suppress(OSError):
                f.unlink()
        if any(f.name.endswith(".tmp") for f in stale):
            self.note(f"{self.out}: removed {sum(f.name.endswith('.tmp') for f in stale)} temporary file(s) of "
                      "partial results left by an interrupted run")
        manifest = self.folder / MANIFEST
        earlier: dict[str, dict[str, Any]] = {}
        if manifest.exists():
            try:
                data = json.loads(manifest.read_text(encoding="utf-8"))
                earlier = dict(data["partitions"])
            except (OSError, ValueError, KeyError, TypeError) as e:
                raise EngineError(f"the manifest of the partial results is unreadable ({type(e).__name__})",
                                  path=str(manifest), hint="rerun with --fresh to start over") from None
            self._refuse_other_run(data, manifest)
        wanted = {p.key: p for p in partitions}
        adopted = self._adopt_unlisted(earlier, wanted)
        changed, damaged = [], []
        given = {p.absolute for p in partitions}
        for key, entry in earlier.items():
            part = self.folder / str(entry.get("part", ""))
            if key not in wanted:
                if entry.get("input") in given:
                    changed.append(entry.get("shown") or entry.get("input"))
                with contextlib.suppress(OSError):
                    part.unlink()
                continue
            if not part.is_file() or sha256_file(part) != entry.get("part_sha256"):
                damaged.append(wanted[key].label)
                continue
            self.entries[key] = entry
        self.reused = [p.key for p in partitions if p.key in self.entries]
        self._remove_orphans()
        if earlier or adopted:
            self.note(f"{self.out}: resuming an earlier run: {len(self.reused)} of {len(partitions)} partition(s) "
                      f"already done, {len(partitions) - len(self.reused)} to do")
        if changed:
            names = sorted(set(changed))
            self.note(f"{len(names)} input(s) changed since the earlier run, redone: {', '.join(names[:5])}"
                      + (" …" if len(names) > 5 else ""))
        if damaged:
            self.note(f"{len(damaged)} partial result(s) damaged, redone: {', '.join(damaged[:5])}")
        self._dirty = True
        self.save(force=True)
        return [p for p in partitions if p.key not in self.entries]

    def _refuse_other_run(self, data: dict, manifest: Path) -> None:
        what = {"stage": "another command", "codeur": "another codeur version", "model": "another model",
                "options": "other options"}
        for k, why in what.items():
            if data.get(k) != self.header.get(k):
                was, now = data.get(k), self.header.get(k)
                detail = ""
                if k == "model":
                    detail = f" ({(was or {}).get('sha256', '?')[:19]}… at {(was or {}).get('path')}, now " \
                             f"{(now or {}).get('sha256', '?')[:19]}… at {(now or {}).get('path')})"
                elif k in ("codeur", "stage"):
                    detail = f" ({was} then, {now} now)"
                elif k == "options":
                    diff = sorted(o for o in set(was or {}) | set(now or {}) if (was or {}).get(o) != (now or {}).get(o))
                    detail = f" ({', '.join(diff)})"
                raise EngineError(f"the partial results beside this output come from {why}{detail}; they are not "
                                  "mixed with this run's", path=str(self.out),
                                  hint="rerun with --fresh to discard them, or choose another --out")

    def _adopt_unlisted(self, earlier: dict, wanted: dict[str, Partition]) -> int:
        n = 0
        listed = {e.get("part") for e in earlier.values()}
        for part in sorted(self.folder.glob("part-*.jsonl")):
            if part.name in listed:
                continue
            try:
                with part.open(encoding="utf-8") as fh:
                    head = json.loads(fh.readline())
            except (OSError, ValueError):
                continue
            key = head.get("partition") if isinstance(head, dict) else None
            if head.get("run") != self.run_id or key not in wanted or head.get("n_rows") is None:
                continue
            p = wanted[key]
            earlier[key] = {**p.describe(), "shown": p.shown, "part": part.name, "part_sha256": sha256_file(part),
                            "rows_out": head["n_rows"], "words": head.get("words", 0), "adopted": True}
            n += 1
        return n

    def _remove_orphans(self) -> None:
        keep = {MANIFEST} | {e["part"] for e in self.entries.values()}
        for f in self.folder.iterdir():
            if f.name not in keep and f.name.startswith("part-") and f.is_file():
                with contextlib.suppress(OSError):
                    f.unlink()

    # -- writing
    def write(self, p: Partition, head: dict[str, Any], rows: list[dict], *, words: int, seconds: float,
              worker: str) -> None:

        name = f"part-{p.key}.jsonl"
        h = hashlib.sha256()
        first = {"run": self.run_id, "partition": p.key, **p.describe(), "shown": p.shown, "n_rows": len(rows),
                 "words": words, **head}
        with atomic_open(self.folder / name, "w", "utf-8", lock=False) as fh:  # the output's lock covers the folder
            for obj in (first, *rows):
                line = json.dumps(obj, ensure_ascii=False) + "\n"
                fh.write(line)
                h.update(line.encode("utf-8"))
        self.entries[p.key] = {**p.describe(), "shown": p.shown, "part": name, "part_sha256": "sha256:" + h.hexdigest(),
                               "rows_out": len(rows), "words": words, "seconds": round(seconds, 3), "worker": worker,
                               "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}
        self._dirty = True
        self.save()

    def save(self, force: bool = False) -> None:

        if not self._dirty or (not force and time.monotonic() - self._saved_at < SAVE_EVERY_S):
            return
        write_json(self.folder / MANIFEST, {**self.header, "output": str(self.out), "partitions": self.entries})
        self._saved_at = time.monotonic()
        self._dirty = False

    def read(self, p: Partition) -> tuple[dict[str, Any], list[dict]]:
        entry = self.entries[p.key]
        with (self.folder / entry["part"]).open(encoding="utf-8") as fh:
            head = json.loads(fh.readline())
            rows = [json.loads(line) for line in fh]
        if len(rows) != head["n_rows"]:
            raise EngineError(f"partial result {entry['part']} is incomplete", path=str(self.folder),
                              hint="rerun the same command: it is redone")
        return head, rows

    def discard(self) -> None:
        """Once the output is written: the partial results are no longer needed."""
        shutil.rmtree(self.folder, ignore_errors=True)


# --- the cluster ---------------------------------------------------------------------------------

@contextlib.contextmanager
def dask_client(opts: DaskOptions, note: Note | None = None) -> Iterator[Any]:
    """A `distributed.Client`: to `opts.scheduler`, or to a cluster started here (SLURM or local)."""
    note = note or (lambda m: None)
    from distributed import Client, LocalCluster

    log = logging.getLogger("distributed")
    level = log.level
    log.setLevel(logging.ERROR)  # a lost worker is reported by the run, not by pages of log
    cluster = client = None
    try:
        if opts.scheduler:
            try:
                client = Client(opts.scheduler, timeout="20s")
            except (OSError, TimeoutError, ValueError) as e:
                raise EngineError(f"cannot reach the Dask scheduler at {opts.scheduler} ({type(e).__name__}: {e})",
                                  hint="start it with `dask scheduler` and workers with `dask worker ADDRESS`, "
                                  "or leave --scheduler out for a local cluster") from None
        elif opts.slurm:
            from .slurm import load_slurm_config, slurm_cluster

            cfg = load_slurm_config(opts.slurm)
            cluster = slurm_cluster(cfg)
            n = opts.workers or cfg.workers
            cluster.scale(n)
            client = Client(cluster)
            note(f"asked SLURM for {n} worker(s) (jobs of {cfg.processes}); the run starts as they join")
        else:
            n = opts.workers or os.cpu_count() or 1
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=opts.processes,
                                   dashboard_address=":0", silence_logs=logging.ERROR)
            client = Client(cluster)
        yield client
    finally:
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close()
        log.setLevel(level)


def run_partitions(client, store: PartStore, todo: Sequence[Partition], submit: Callable[[Any, Partition], Any], *,
                   on_done: Callable[[Partition, dict], None] | None = None) -> None:
    """Submit `todo` (a bounded window ahead, so a large run does not flood the scheduler) and
    write each result into `store` as it comes. Stops at the first partition that cannot be done,
    with a message naming it; what finished is kept for the rerun."""
    from distributed import as_completed
    from distributed.client import FutureCancelledError
    from distributed.scheduler import KilledWorker

    queue = iter(todo)
    live: dict[str, tuple[Any, Partition]] = {}
    window = max(16, 4 * max(1, sum(client.nthreads().values())))
    ac = as_completed(loop=client.loop)  # this client's loop, not the default client's (another may exist)

    def submit_next() -> None:
        p = next(queue, None)
        if p is not None:
            fut = submit(client, p)
            live[fut.key] = (fut, p)
            ac.add(fut)

    for _ in range(window):
        submit_next()
    done = len(store.reused)
    try:
        for fut in ac:
            _, p = live.pop(fut.key)
            try:
                res = fut.result()
            except CodeurError:
                raise
            except KilledWorker:
                raise EngineError(f"the workers processing it died ({done} partition(s) finished and kept)",
                                  path=p.label, hint="a file that kills its worker (memory?) or lost nodes; rerun "
                                  "the same command to do the missing partitions") from None
            except (FutureCancelledError, OSError, TimeoutError) as e:
                raise EngineError(f"lost the Dask cluster ({type(e).__name__}: {e}; {done} partition(s) finished "
                                  "and kept)", path=p.label, hint="rerun the same command to do the missing "
                                  "partitions") from None
            except Exception as e:  # a reader's or model's failure: name the file
                raise InputFileError(f"{type(e).__name__}: {e}", path=p.label) from e
            store.write(p, res["head"], res["rows"], words=res["words"], seconds=res["seconds"],
                        worker=res["worker"])
            done += 1
            if on_done:
                on_done(p, res)
            submit_next()
    finally:
        if live:
            with contextlib.suppress(Exception):
                client.cancel([f for f, _ in live.values()])
        store.save(force=True)


# --- on the workers: loaded once per worker process ------------------------------------------------

_LOCK = threading.RLock()
_CACHE: dict[tuple, Any] = {}
#: how many times this process loaded each model (tests check it is once per worker)
LOADS: dict[str, int] = {}


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return f"pid {os.getpid()}"


def worker_model(model_dir: str, card_sha: str):
    """The model, loaded once per process and checked to be the one the command loaded."""
    from .model import load_model

    key = ("model", model_dir, card_sha)
    with _LOCK:
        if key not in _CACHE:
            model = load_model(model_dir)
            if model_sha256(model_dir) != card_sha:
                raise ModelError("the model folder changed during the run (its model card is not the one the "
                                 "command loaded)", path=model_dir)
            _CACHE[key] = model
            LOADS[model_dir] = LOADS.get(model_dir, 0) + 1
        return _CACHE[key]


def worker_loads() -> dict[str, int]:
    return dict(LOADS)


def _segmenter():
    from ..passages.segment import Segmenter

    with _LOCK:
        if ("segmenter",) not in _CACHE:
            _CACHE[("segmenter",)] = Segmenter()
        return _CACHE[("segmenter",)]


def _prepared(shown: str, absolute: str, speaker_config, strict: bool):
    """One transcript file prepared as the single-process run prepares it."""
    from ..passages.prepare import prepare

    path = _readable_path(shown, absolute)
    res = prepare([path], speaker_config=speaker_config, segmenter=_segmenter(), strict=strict)
    report = res.reports[0]
    report.path = shown
    transcript = res.transcripts[0].to_dict() if res.transcripts else None
    if transcript is not None:
        transcript["source"] = str(Path(shown)) if transcript["source"] == str(path) else transcript["source"]
    return report, transcript, [p.to_dict() for p in res.passages]


def prepare_task(shown: str, absolute: str, speaker_config, strict: bool) -> dict[str, Any]:
    t0 = time.perf_counter()
    with _LOCK:
        report, transcript, rows = _prepared(shown, absolute, speaker_config, strict)
    return {"head": {"report": asdict(report), "transcript": transcript}, "rows": rows,
            "words": sum(r.get("n_words") or 0 for r in rows), "seconds": time.perf_counter() - t0,
            "worker": _worker_name()}


def classify_file_task(shown: str, absolute: str, model_dir: str, card_sha: str, batch_size: int,
                       strict: bool) -> dict[str, Any]:
    from .batch import classify_rows

    t0 = time.perf_counter()
    model = worker_model(model_dir, card_sha)
    with _LOCK:
        report, transcript, rows = _prepared(shown, absolute, None, strict)
        classify_rows(model, rows, batch_size=batch_size)
    return {"head": {"report": asdict(report), "doc_id": transcript["doc_id"] if transcript else None,
                     "source": shown}, "rows": rows,
            "words": sum(r.get("n_words") or 0 for r in rows), "seconds": time.perf_counter() - t0,
            "worker": _worker_name()}


def classify_rows_task(rows: list[dict], contexts: list[tuple[str, str]] | None, model_dir: str, card_sha: str,
                       batch_size: int) -> dict[str, Any]:
    from ..passages.context import Context
    from .batch import classify_rows

    t0 = time.perf_counter()
    model = worker_model(model_dir, card_sha)
    ctx = [Context(q, p) for q, p in contexts] if contexts is not None else None
    with _LOCK:
        rows = classify_rows(model, [dict(r) for r in rows], batch_size=batch_size, contexts=ctx)
    return {"head": {}, "rows": rows, "words": sum(len(str(r.get("text", "")).split()) for r in rows),
            "seconds": time.perf_counter() - t0, "worker": _worker_name()}


# --- the two commands ------------------------------------------------------------------------------

@dataclass
class EngineRun:
    """What a distributed run gives the command: the rows to write and the reports to print."""

    store: PartStore
    rows: list[dict] = field(default_factory=list)
    transcripts: list[dict] = field(default_factory=list)
    reports: list = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    computed: list[str] = field(default_factory=list)   # partition keys done by this run
    n_partitions: int = 0


def _config_sha(obj) -> str:
    data = obj.model_dump(mode="json") if hasattr(obj, "model_dump") else obj
    return "sha256:" + hashlib.sha256(json.dumps(data, sort_keys=True).encode("utf-8")).hexdigest()


def _run(opts: DaskOptions, store: PartStore, parts: list[Partition], submit, note: Note | None,
         on_partition: Callable[[int, int, int], None] | None, client=None) -> list[str]:
    todo = store.open(parts)
    computed: list[str] = []
    if on_partition:
        on_partition(len(store.reused), len(parts), 0)
    if not todo:
        return computed

    def done(p: Partition, res: dict) -> None:
        computed.append(p.key)
        if on_partition:
            on_partition(len(store.reused) + len(computed), len(parts), res["words"])

    if client is not None:
        run_partitions(client, store, todo, submit, on_done=done)
    else:
        with dask_client(opts, note) as c:
            run_partitions(c, store, todo, submit, on_done=done)
    return computed


def _merge_files(parts: Sequence[Partition], store: PartStore, strict: bool) -> tuple[list, list[dict], list[dict]]:
    """Reports, transcripts (prepare) and rows of transcript partitions, in input order, with the
    rule that spans files: a document id met a second time is an error for that file."""
    from ..passages.prepare import FileReport

    reports, transcripts, rows = [], [], []
    seen: dict[str, str] = {}
    for p in parts:
        head, prow = store.read(p)
        rep = FileReport(**head["report"])
        doc = head["transcript"]["doc_id"] if head.get("transcript") else head.get("doc_id")
        if doc is not None:
            if doc in seen:
                err = InputFileError(f"duplicate document id {doc!r} (also {seen[doc]})", path=p.shown,
                                     hint="rename one of the files")
                if strict:
                    raise err
                reports.append(FileReport(p.shown, status="error", reason=f"{err.reason} ({err.hint})"))
                continue
            seen[doc] = p.shown
            if head.get("transcript"):
                transcripts.append(head["transcript"])
            rows.extend(prow)
        reports.append(rep)
    return reports, transcripts, rows


def prepare(paths: Iterable[str | Path], *, out: Path, speakers: Path | None = None, strict: bool = False,
            opts: DaskOptions, note: Note | None = None, on_partition=None, client=None) -> EngineRun:
    """`codeur prepare` on Dask: one partition per transcript file."""
    from ..ingest.readers import load_speaker_config
    from ..passages.prepare import collect_inputs

    files, notes = collect_inputs(paths)
    if strict and any(n.status == "error" for n in notes):
        bad = next(n for n in notes if n.status == "error")
        raise InputFileError(bad.reason, path=bad.path)
    speaker_config = load_speaker_config(speakers)
    header = {"stage": "prepare", "codeur": __version__, "model": None,
              "options": {"speakers": _config_sha(speaker_config)}}
    store = PartStore(out, header, fresh=opts.fresh, note=note)
    parts = file_partitions(files)

    def submit(c, p: Partition):
        return c.submit(prepare_task, p.shown, p.absolute, speaker_config, strict,
                        key=f"codeur-prepare-{p.key}-{uuid.uuid4().hex[:8]}", priority=-p.index)

    computed = _run(opts, store, parts, submit, note, on_partition, client)
    reports, transcripts, rows = _merge_files(parts, store, strict)
    return EngineRun(store, rows=rows, transcripts=transcripts, reports=notes + reports, computed=computed,
                     n_partitions=len(parts))


def classify(inputs: Sequence[str | Path], *, model, out: Path, strict: bool = False, batch_size: int = 256,
             opts: DaskOptions, note: Note | None = None, on_partition=None, client=None) -> EngineRun:
    """`codeur classify` on Dask: row ranges of passages tables, then one partition per transcript file,
    in the order the single-process run gives (tables first)."""
    from ..passages.prepare import collect_inputs
    from .batch import TABLE_SUFFIXES, model_contexts

    tables = [Path(p) for p in inputs if Path(p).suffix.lower() in TABLE_SUFFIXES and Path(p).is_file()]
    others = [p for p in inputs if Path(p) not in tables]
    problems: list[str] = []
    table_rows: list[dict] = []
    parts: list[Partition] = []
    for t in tables:
        got = read_rows(t, required=("id", "text"))
        if strict and got.errors:
            raise TableError(got.errors[0], path=str(t))
        problems.extend(f"{t}: {e}" for e in got.errors)
        good = []
        for r in got.rows:
            if not isinstance(r.get("text"), str):
                problems.append(f"{t}: passage {r.get('id')!r}: 'text' is not a string")
                continue
            good.append(r)
        size, sha = _digest(t)
        base = len(table_rows)
        for a in range(0, len(good), opts.rows_per_partition):
            b = min(a + opts.rows_per_partition, len(good))
            parts.append(Partition(len(parts), str(t), str(t.absolute()), size, sha, (base + a, base + b)))
        table_rows.extend(good)
    contexts = model_contexts(model, table_rows)  # on all the tables' rows, before they are cut
    n_table_parts = len(parts)
    files, notes = collect_inputs(others) if others else ([], [])
    if strict and any(n.status == "error" for n in notes):
        bad = next(n for n in notes if n.status == "error")
        raise InputFileError(bad.reason, path=bad.path)
    parts += file_partitions(files, start=len(parts))
    card_sha = model_sha256(model.path)
    model_dir = str(Path(model.path).absolute())
    header = {"stage": "classify", "codeur": __version__, "model": {"path": model_dir, "sha256": card_sha},
              "options": {"batch_size": batch_size}}
    store = PartStore(out, header, fresh=opts.fresh, note=note)

    def submit(c, p: Partition):
        key = f"codeur-classify-{p.key}-{uuid.uuid4().hex[:8]}"
        if p.rows is None:
            return c.submit(classify_file_task, p.shown, p.absolute, model_dir, card_sha, batch_size, strict,
                            key=key, priority=-p.index)
        a, b = p.rows
        ctx = [(x.question, x.previous) for x in contexts[a:b]] if contexts is not None else None
        [data] = c.scatter([(table_rows[a:b], ctx)], hash=False)
        return c.submit(_classify_scattered, data, model_dir, card_sha, batch_size, key=key, priority=-p.index)

    computed = _run(opts, store, parts, submit, note, on_partition, client)
    rows: list[dict] = []
    for p in parts[:n_table_parts]:
        rows.extend(store.read(p)[1])
    reports, _, file_rows = _merge_files(parts[n_table_parts:], store, strict)
    rows.extend(file_rows)
    return EngineRun(store, rows=rows, reports=(notes + reports) if others else [], problems=problems,
                     computed=computed, n_partitions=len(parts))


def _classify_scattered(data, model_dir: str, card_sha: str, batch_size: int) -> dict[str, Any]:
    rows, ctx = data
    return classify_rows_task(rows, ctx, model_dir, card_sha, batch_size)
