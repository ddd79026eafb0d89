"""The `codeur` command line: one command per pipeline stage, each reading and writing files.

`app` lives in `pipeline.cli.app` with what every command shares (error handling, output checks,
progress); each module here registers the commands of one stage, and none imports back up.
"""
from .app import app
from . import prepare, corpus, train, audit, qdpx, cases  # noqa: E402,F401  (register the commands, in pipeline order)

__all__ = ["app", "main"]


def main() -> None:  # pragma: no cover
    app()
