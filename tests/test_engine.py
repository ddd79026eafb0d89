"""`--engine dask`: the same bytes as the single-process run, from partitions done on Dask workers;
runs interrupted (Ctrl-C, a worker killed) finish on rerun, redoing only what is missing; partial
results of another model are refused; the SLURM recipe's config is checked."""
import json
import os
import re
import shutil
import signal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.classify import engine
from pipeline.cli import app
from pipeline.core.errors import CodeurError, ConfigError, EngineError
from pipeline.classify.model import load_model

distributed = pytest.importorskip("distributed")
runner = CliRunner()
DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def interviews(small_corpus, tmp_path_factory):
    """A researcher's folder: interviews in five formats, a real ESLO transcript, a broken file and a
    copy of one interview under the same name in a subfolder (a document id given twice)."""
    src = tmp_path_factory.mktemp("interviews") / "entretiens"
    src.mkdir()
    for f in sorted((small_corpus / "transcripts").iterdir()):
        if f.stem in ("E01", "E02", "E03", "E04", "E09", "E10"):
            shutil.copy(f, src / f.name)
    shutil.copy(DATA / "eslo" / "ESLO1_MAG_290_C.trs", src / "eslo.trs")
    (src / "broken.trs").write_text("<Trans><Episode><Section><Turn speaker='spk1'>", encoding="utf-8")
    (src / "more").mkdir()
    shutil.copy(src / "E01.txt", src / "more" / "E01.txt")
    return src


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes, as `--workers 2` starts them, shared by the tests through --scheduler."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as c, \
            distributed.Client(c) as client:
        yield c, client


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def said(result) -> str:
    """The command's output on one line (long paths wrap it)."""
    return " ".join(result.output.split())


def plain_and_dask(args, out_plain, out_dask, *dask_args):
    a = invoke(*args, "--out", out_plain)
    b = invoke(*args, "--out", out_dask, "--engine", "dask", *dask_args)
    return a, b


@pytest.mark.slow
def test_prepare_on_two_local_workers_gives_the_single_process_bytes(interviews, tmp_path):
    a = invoke("prepare", interviews, "--out", tmp_path / "a.jsonl", "--transcripts", tmp_path / "a-tr.jsonl",
               "--parquet")
    b = invoke("prepare", interviews, "--out", tmp_path / "b.jsonl", "--transcripts", tmp_path / "b-tr.jsonl",
               "--parquet", "--engine", "dask", "--workers", "2")
    assert a.exit_code == b.exit_code == 1, b.output  # the broken file and the duplicate are reported, the rest written
    assert "duplicate document id 'E01'" in said(b) and "broken.trs" in said(b)
    for x, y in (("a.jsonl", "b.jsonl"), ("a-tr.jsonl", "b-tr.jsonl"), ("a.parquet", "b.parquet")):
        assert (tmp_path / x).read_bytes() == (tmp_path / y).read_bytes(), x
    # the same report table and summary, and no progress bar when not on a terminal
    assert "(9 of 9 partition(s) done in this run)" in said(b)
    wrote = re.compile(r"wrote \d+ passage\(s\) to \S+( \(\d+ of \d+ partition\(s\) done in this run\))?")
    assert wrote.sub("", said(a)) == wrote.sub("", said(b))
    assert not engine.parts_folder(tmp_path / "b.jsonl").exists()  # partial results removed once written


@pytest.mark.slow
def test_classify_transcripts_and_a_table_cut_in_row_ranges_give_the_same_bytes(interviews, context_model,
                                                                                cluster, tmp_path):
    c, client = cluster
    a, b = plain_and_dask(["classify", interviews, "--model", context_model], tmp_path / "a.jsonl",
                          tmp_path / "b.jsonl", "--scheduler", c.scheduler_address)
    assert a.exit_code == b.exit_code == 1, b.output
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    # a passages table cut into ranges of 40 rows: each range still reads the passage before its first row
    table = tmp_path / "passages.jsonl"
    assert invoke("prepare", interviews, "--out", table).exit_code == 1
    a, b = plain_and_dask(["classify", table, "--model", context_model], tmp_path / "ta.jsonl", tmp_path / "tb.jsonl",
                          "--scheduler", c.scheduler_address, "--rows-per-partition", "40")
    assert a.exit_code == b.exit_code == 0, b.output
    n = len(table.read_text(encoding="utf-8").splitlines())
    assert f"{-(-n // 40)} of {-(-n // 40)} partition(s)" in said(b)
    assert (tmp_path / "ta.jsonl").read_bytes() == (tmp_path / "tb.jsonl").read_bytes()
    # each worker process loaded the model once, however many partitions it did
    loads = [v.get(str(context_model.absolute()), 0) for v in client.run(engine.worker_loads).values()]
    assert max(loads) == 1 and sum(loads) >= 1


def test_strict_stops_at_a_bad_file_naming_it_and_writes_nothing(interviews, context_model, cluster, tmp_path):
    c, _ = cluster
    out = tmp_path / "p.jsonl"
    r = invoke("classify", interviews, "--model", context_model, "--out", out, "--strict", "--engine", "dask",
               "--scheduler", c.scheduler_address)
    assert r.exit_code == 2 and "broken.trs" in said(r) and "[E0" in said(r) and "Traceback" not in said(r)
    assert not out.exists()


def interrupt_after(n_done):
    """An on_partition callback that stops the run like Ctrl-C once `n_done` partitions are done."""
    def on_partition(done, total, words):
        if words and done >= n_done:
            raise KeyboardInterrupt
    return on_partition


def interrupted(inputs, model, out, cluster, n_done=3):
    c, _ = cluster
    opts = engine.options("dask", scheduler=c.scheduler_address)
    with pytest.raises(KeyboardInterrupt):
        engine.classify([inputs], model=load_model(model), out=out, opts=opts, on_partition=interrupt_after(n_done))
    manifest = json.loads((engine.parts_folder(out) / engine.MANIFEST).read_text(encoding="utf-8"))
    assert not out.exists()
    return manifest


def test_an_interrupted_run_is_finished_by_the_same_command_redoing_only_the_rest(interviews, context_model,
                                                                                 cluster, tmp_path):
    out = tmp_path / "pred.jsonl"
    manifest = interrupted(interviews, context_model, out, cluster)
    done = manifest["partitions"]
    assert len(done) >= 3 and manifest["model"]["sha256"] == engine.model_sha256(context_model)
    for entry in done.values():  # each finished partition: its input, size and hash, and its part file
        assert {"input", "size", "sha256", "part", "part_sha256"} <= set(entry)
        assert (engine.parts_folder(out) / entry["part"]).is_file()
    c, _ = cluster
    r = invoke("classify", interviews, "--model", context_model, "--out", out, "--engine", "dask",
               "--scheduler", c.scheduler_address)
    assert r.exit_code == 1, r.output
    n = 9  # files in the folder
    assert f"{len(done)} of {n} partition(s) already done" in said(r)
    assert f"({n - len(done)} of {n} partition(s) done in this run)" in said(r)
    plain = invoke("classify", interviews, "--model", context_model, "--out", tmp_path / "plain.jsonl")
    assert plain.exit_code == 1
    assert out.read_bytes() == (tmp_path / "plain.jsonl").read_bytes()
    assert not engine.parts_folder(out).exists()


def test_a_changed_input_is_redone_and_another_model_is_refused(interviews, context_model, cluster, tmp_path):
    folder = tmp_path / "entretiens"
    shutil.copytree(interviews, folder)
    out = tmp_path / "pred.jsonl"
    done = interrupted(folder, context_model, out, cluster)["partitions"]
    changed = Path(next(e["input"] for e in done.values() if e["input"].endswith(".txt")))
    with changed.open("a", encoding="utf-8") as fh:
        fh.write("\n")
    # another model (here: its card edited, so its hash differs): refused, the partial results kept
    other = tmp_path / "other-model"
    shutil.copytree(context_model, other)
    card = json.loads((other / "model-card.json").read_text(encoding="utf-8"))
    (other / "model-card.json").write_text(json.dumps({**card, "name": "other"}), encoding="utf-8")
    c, _ = cluster
    dask = ["--engine", "dask", "--scheduler", c.scheduler_address]
    r = invoke("classify", folder, "--model", other, "--out", out, *dask)
    assert r.exit_code == 2 and "come from another model" in said(r) and "--fresh" in said(r)
    assert engine.parts_folder(out).is_dir() and not out.exists()
    # the same model: the changed file is redone, the others kept
    r = invoke("classify", folder, "--model", context_model, "--out", out, *dask)
    assert r.exit_code == 1, r.output
    assert "1 input(s) changed since the earlier run, redone" in said(r) and changed.name in said(r)
    assert f"{len(done) - 1} of 9 partition(s) already done" in said(r)
    assert invoke("classify", folder, "--model", context_model, "--out", tmp_path / "plain.jsonl").exit_code == 1
    assert out.read_bytes() == (tmp_path / "plain.jsonl").read_bytes()
    # --fresh discards what an earlier run left
    interrupted(folder, context_model, tmp_path / "again.jsonl", cluster)
    r = invoke("classify", folder, "--model", other, "--out", tmp_path / "again.jsonl", "--fresh", *dask)
    assert r.exit_code == 1 and "discarded the partial results" in said(r) and "(9 of 9 partition(s)" in said(r)


def test_engine_options_are_checked_before_any_work(interviews, context_model, tmp_path):
    r = invoke("classify", interviews, "--model", context_model, "--out", tmp_path / "p.jsonl", "--workers", "2")
    assert r.exit_code == 2 and "only go with --engine dask" in said(r)
    r = invoke("prepare", interviews, "--out", tmp_path / "p.jsonl", "--engine", "spark")
    assert r.exit_code == 2 and "choose local or dask" in said(r)
    r = invoke("prepare", interviews, "--out", tmp_path / "p.jsonl", "--engine", "dask", "--scheduler",
               "tcp://127.0.0.1:9", "--slurm", REPO / "configs" / "slurm.yaml")
    assert r.exit_code == 2 and "give one" in said(r)
    (tmp_path / ".p.jsonl.parts").write_text("not a folder", encoding="utf-8")
    r = invoke("prepare", interviews, "--out", tmp_path / "p.jsonl", "--engine", "dask", "--workers", "1")
    assert r.exit_code == 2 and "is not a folder" in said(r)
    assert not (tmp_path / "p.jsonl").exists()


# --- a worker killed during a run ---------------------------------------------------------------

def kill_a_busy_worker(client, killed):
    """An on_partition callback: after the first partition done here, SIGKILL a worker process that
    has partitions in hand (its nanny starts a new one)."""
    def on_partition(done, total, words):
        if words and not killed:
            busy = [addr for addr, keys in client.processing().items() if keys]
            pids = client.run(os.getpid, workers=busy[:1])
            for pid in pids.values():
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
    return on_partition


@pytest.mark.slow
def test_a_killed_worker_either_is_replaced_or_stops_the_run_clearly_and_a_rerun_finishes(
        interviews, context_model, tmp_path):
    import dask

    model = load_model(context_model)
    assert invoke("classify", interviews, "--model", context_model, "--out", tmp_path / "plain.jsonl").exit_code == 1
    plain = (tmp_path / "plain.jsonl").read_bytes()
    # default settings: the killed worker's partitions are done again on the other worker, the run finishes
    out = tmp_path / "pred.jsonl"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as c, \
            distributed.Client(c) as client:
        killed: list = []
        opts = engine.options("dask", scheduler=c.scheduler_address)
        run = engine.classify([interviews], model=model, out=out, opts=opts,
                              on_partition=kill_a_busy_worker(client, killed))
        assert killed and len(run.computed) == run.n_partitions == 9
        from pipeline.core.tables import write_rows

        write_rows(out, run.rows)
        assert out.read_bytes() == plain
    # a partition may not be retried after its worker died: the run stops naming it, the rest is kept
    out = tmp_path / "pred2.jsonl"
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as c, \
            distributed.Client(c) as client:
        killed = []
        opts = engine.options("dask", scheduler=c.scheduler_address)
        with pytest.raises(EngineError) as e:
            engine.classify([interviews], model=model, out=out, opts=opts,
                            on_partition=kill_a_busy_worker(client, killed))
        assert "the workers processing it died" in str(e.value) and "rerun the same command" in str(e.value)
        assert str(interviews) in str(e.value)  # names the file
    done = json.loads((engine.parts_folder(out) / engine.MANIFEST).read_text(encoding="utf-8"))["partitions"]
    assert 1 <= len(done) < 9
    r = invoke("classify", interviews, "--model", context_model, "--out", out, "--engine", "dask", "--workers", "2")
    assert r.exit_code == 1, r.output
    assert f"({9 - len(done)} of 9 partition(s) done in this run)" in said(r)
    assert out.read_bytes() == plain


# --- SLURM ---------------------------------------------------------------------------------------

def test_the_slurm_config_becomes_the_job_script(tmp_path):
    from pipeline.classify.slurm import load_slurm_config, slurm_cluster

    cfg = load_slurm_config(REPO / "configs" / "slurm.yaml")
    assert (cfg.workers, cfg.processes, cfg.cores) == (8, 4, 4)
    mine = tmp_path / "slurm.yaml"
    mine.write_text("workers: 6\nprocesses: 2\ncores: 2\nmemory: 4GB\nwalltime: '00:30:00'\nqueue: cpu\n"
                    "account: my-lab\njob_script_prologue: ['module load python/3.11']\n"
                    "job_extra_directives: ['--constraint=skylake']\n", encoding="utf-8")
    cluster = slurm_cluster(load_slurm_config(mine))  # its scheduler runs here; no job is submitted
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    for line in ("#SBATCH -p cpu", "#SBATCH -A my-lab", "#SBATCH --cpus-per-task=2", "#SBATCH -t 00:30:00",
                 "#SBATCH --constraint=skylake", "module load python/3.11", "--nworkers 2", "--nthreads 1"):
        assert line in script, line


@pytest.mark.parametrize("text, says", [
    ("workers: 4\nprocessors: 2\n", "processors: unknown key (known: workers, processes, cores"),
    ("workers: many\n", "workers: Input should be a valid integer"),
    ("processes: 8\ncores: 4\n", "processes (8) exceeds cores (4)"),
    ("- a list\n", "expected a mapping (key: value lines) for the SLURM configuration, got a list"),
])
def test_a_bad_slurm_config_is_refused_naming_the_file(tmp_path, text, says):
    from pipeline.classify.slurm import load_slurm_config

    bad = tmp_path / "slurm.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_slurm_config(bad)
    assert says in str(e.value) and str(bad) in str(e.value)
    r = invoke("prepare", tmp_path, "--out", tmp_path / "p.jsonl", "--engine", "dask", "--slurm", bad)
    assert r.exit_code == 2 and str(bad) in r.output.replace("\n", "")


def test_a_worker_error_comes_back_with_its_file_and_hint():
    import pickle

    from pipeline.core.errors import InputFileError

    e = pickle.loads(pickle.dumps(InputFileError("malformed XML", path="b.trs", hint="fix it")))
    assert isinstance(e, CodeurError) and e.format() == "[E010] b.trs: malformed XML (fix it)"
