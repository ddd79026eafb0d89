"""Dask workers as SLURM jobs (dask-jobqueue's `SLURMCluster`), from a small YAML file.

    codeur classify /archive --model models/default --engine dask --slurm configs/slurm.yaml \
        --workers 32 --out work/predictions.jsonl

The command runs on a login node (or in a small job of its own): it starts the Dask scheduler,
submits `ceil(workers / processes)` jobs with `sbatch`, and the run starts as their workers join.
Inputs, the model folder and the output must be on a file system the nodes share.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field

from ..core.errors import ConfigError
from ..core.config import load_config


class SlurmConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workers: int = Field(8, ge=1, description="worker processes in all (--workers overrides)")
    processes: int = Field(4, ge=1, description="worker processes per job (each loads the model once)")
    cores: int = Field(4, ge=1, description="CPU cores per job")
    memory: str = Field("16GB", description="memory per job")
    walltime: str = Field("02:00:00")
    queue: Optional[str] = Field(None, description="SLURM partition (-p)")
    account: Optional[str] = Field(None, description="account to charge (-A)")
    python: Optional[str] = Field(None, description="Python on the nodes with codeur installed "
                                  "(default: the one running the command)")
    job_script_prologue: list[str] = Field(default_factory=list, description="shell lines run before the worker")
    job_extra_directives: list[str] = Field(default_factory=list, description="more #SBATCH options")
    local_directory: Optional[str] = Field(None, description="node-local scratch for the workers")
    log_directory: Optional[str] = None
    interface: Optional[str] = Field(None, description="network interface the nodes reach each other on (ib0)")
    death_timeout: int = Field(120, ge=1, description="seconds a worker waits for a lost scheduler")

    def cluster_kwargs(self) -> dict:
        """Keyword arguments of `dask_jobqueue.SLURMCluster`."""
        kw = {"cores": self.cores, "processes": self.processes, "memory": self.memory, "walltime": self.walltime,
              "queue": self.queue, "account": self.account, "python": self.python or sys.executable,
              "job_script_prologue": list(self.job_script_prologue),
              "job_extra_directives": list(self.job_extra_directives),
              "local_directory": self.local_directory, "log_directory": self.log_directory,
              "interface": self.interface, "death_timeout": self.death_timeout,
              "scheduler_options": {"dashboard_address": ":0"}}
        return {k: v for k, v in kw.items() if v is not None}


def load_slurm_config(path: str | Path) -> SlurmConfig:
    cfg = load_config(path, SlurmConfig, what="SLURM configuration")
    if cfg.processes > cfg.cores:
        raise ConfigError(f"processes ({cfg.processes}) exceeds cores ({cfg.cores}) per job", path=str(path),
                          hint="each worker process needs at least one core")
    return cfg


def slurm_cluster(cfg: SlurmConfig):
    """A `SLURMCluster` (its scheduler runs here; jobs are submitted by `scale`)."""
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError:  # pragma: no cover - a dependency of the project
        raise ConfigError("--slurm needs the 'dask-jobqueue' package", hint="pip install dask-jobqueue") from None
    return SLURMCluster(**cfg.cluster_kwargs())
