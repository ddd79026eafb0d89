"""Crash-safe output: every file codeur writes goes to a temporary file first, then is renamed.

A reader of the output path therefore sees either the previous complete file or the new complete
file, never a half-written one.

Around that:
- `check_output` refuses, before any work, an output that cannot be written (a parent that is a
  file or a folder that is not writable) or that is not a regular file (a folder, a symbolic link,
  a device such as /dev/null): codeur never writes through a link or onto a device.
- `output_lock` takes a lock file `.NAME.lock` beside the output (created with O_EXCL, holding the
  pid), so that two runs writing the same output fail clearly instead of one silently losing; a
  lock whose pid is no longer running (a killed run) is taken over, with a note.
- Once the lock is held, temporary files `.NAME.*.tmp` left beside the output by an interrupted
  run (kill -9) are removed, with a note.
Every `atomic_open` / `atomic_path` takes the lock for its own duration unless this process
already holds it (the CLI holds it for the whole run).
"""
from __future__ import annotations

import contextlib
import glob
import json
import os
import stat
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator

from .errors import CodeurError


def _print_note(message: str) -> None:
    print(f"note: {message}", file=sys.stderr)


Note = Callable[[str], None]

#: Lock files (absolute paths) this process holds.
_HELD: set[str] = set()
#: A lock file younger than this whose pid cannot be read yet is being written: it is held.
_FRESH_LOCK_S = 5.0


def _check_target(path: Path) -> None:
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as e:
        raise CodeurError(f"cannot check the output path ({e.strerror or e})", path=str(path)) from None
    if stat.S_ISLNK(st.st_mode):
        raise CodeurError("the output path is a symbolic link; codeur only replaces regular files",
                          path=str(path), hint="give the real file's path, or remove the link")
    if stat.S_ISDIR(st.st_mode):
        raise CodeurError("the output path is a folder; give a file name", path=str(path),
                          hint=f"e.g. {path / 'out.jsonl'}")
    if not stat.S_ISREG(st.st_mode):
        raise CodeurError("the output path is not a regular file (a device, pipe or socket such as /dev/null)",
                          path=str(path), hint="give the name of a file to write")


def check_output(path: str | os.PathLike) -> None:
    """Refuse, before any work, an output path that cannot be written or must not be replaced."""
    path = Path(path)
    _check_target(path)
    _check_writable_from(path.absolute().parent, path)


def _check_writable_from(folder: Path, path: Path) -> None:
    """The nearest existing folder at or above `folder` (where the output will be created) must be
    a writable folder."""
    while not os.path.lexists(folder):
        folder = folder.parent
    if not folder.is_dir():
        raise CodeurError(f"cannot write the output: {folder} is a file, not a folder", path=str(path),
                          hint="choose another --out")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CodeurError(f"cannot write the output: the folder {folder} is not writable", path=str(path),
                          hint="choose another --out, or change the folder's permissions")


def check_output_dir(path: str | os.PathLike) -> None:
    """Refuse, before any work, an output folder that is a file or a link, or that cannot be created or
    written in."""
    path = Path(path)
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        st = None
    except OSError as e:
        raise CodeurError(f"cannot check the output folder ({e.strerror or e})", path=str(path)) from None
    if st is not None:
        if stat.S_ISLNK(st.st_mode):
            raise CodeurError("the output folder is a symbolic link; give the real folder's path", path=str(path))
        if not stat.S_ISDIR(st.st_mode):
            raise CodeurError("the output path is a file, not a folder", path=str(path), hint="choose another --out")
    _check_writable_from(path.absolute() if st is not None else path.absolute().parent, path)


def lock_path(path: str | os.PathLike) -> Path:
    path = Path(path)
    return path.parent / f".{path.name}.lock"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    except OSError:
        return False
    return True


def _lock_pid(lock: Path) -> int | None:
    try:
        return int(lock.read_text(encoding="ascii").strip())
    except (OSError, ValueError, UnicodeError):
        return None


def _acquire(path: Path, note: Note) -> Path | None:
    """Take the lock of `path`; None when this process already holds it."""
    lock = lock_path(path)
    key = str(lock.absolute())
    if key in _HELD:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CodeurError(f"cannot create the output folder ({e.strerror or e})", path=str(path)) from None
    for _ in range(3):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            pid = _lock_pid(lock)
            if pid is None:
                with contextlib.suppress(OSError):
                    if time.time() - lock.stat().st_mtime < _FRESH_LOCK_S:
                        pid = -1  # just created by another run that has not written its pid yet
            if pid is not None and pid != os.getpid() and (pid == -1 or _pid_alive(pid)):
                who = f"pid {pid}" if pid > 0 else "just started"
                raise CodeurError(f"another codeur run ({who}) is writing this output", path=str(path),
                                  hint=f"wait for it to finish; if no such run exists, delete {lock}") from None
            note(f"{path}: took over the stale lock {lock.name} "
                 f"(pid {pid if pid is not None else '?'} is no longer running)")
            with contextlib.suppress(FileNotFoundError):
                os.unlink(lock)
            continue
        except OSError as e:
            raise CodeurError(f"cannot create the lock file {lock.name} ({e.strerror or e})", path=str(path),
                              hint="is the output folder writable?") from None
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(f"{os.getpid()}\n")
        _HELD.add(key)
        remove_stale_temps(path, note)
        return lock
    raise CodeurError(f"cannot take the lock file {lock.name} (another run keeps creating it)", path=str(path))


def _release(lock: Path) -> None:
    _HELD.discard(str(lock.absolute()))
    if _lock_pid(lock) == os.getpid():
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)


@contextlib.contextmanager
def output_lock(paths: Iterable[str | os.PathLike], note: Note | None = None) -> Iterator[None]:
    """Hold the lock of each output for the duration of the block (see the module's docstring)."""
    note = note or _print_note
    taken: list[Path] = []
    try:
        for p in paths:
            lock = _acquire(Path(p), note)
            if lock is not None:
                taken.append(lock)
        yield
    finally:
        for lock in reversed(taken):
            _release(lock)


def remove_stale_temps(path: str | os.PathLike, note: Note | None = None) -> list[str]:
    """Delete the `.NAME.*.tmp` files an interrupted run left beside `path` (call it holding the lock)."""
    path = Path(path)
    pattern = os.path.join(glob.escape(str(path.parent)), f".{glob.escape(path.name)}.*.tmp")
    removed = []
    for tmp in sorted(glob.glob(pattern)):
        if os.path.isfile(tmp) and not os.path.islink(tmp):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
                removed.append(os.path.basename(tmp))
    if removed:
        (note or _print_note)(f"{path}: removed {len(removed)} temporary file(s) left by an interrupted run "
                              f"({', '.join(removed[:3])}{', …' if len(removed) > 3 else ''})")
    return removed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: mkstemp creates files readable by the owner only; outputs get the usual permissions instead.
FILE_MODE = 0o666 & ~_umask()


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8", *,
                lock: bool = True) -> Iterator[IO]:
    """Open a temporary file beside `path`; on success rename it onto `path`, on error delete it.
    `lock=False` for files in a folder whose lock the caller already holds (the engine's part files)."""
    path = Path(path)
    _check_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with output_lock([path] if lock else []), _atomic_open(path, mode, encoding) as fh:
        yield fh


@contextlib.contextmanager
def _atomic_open(path: Path, mode: str, encoding: str | None) -> Iterator[IO]:
    binary = "b" in mode
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if binary else encoding, newline=None if binary else "") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path` for libraries that want a file name (Parquet, zip)."""
    path = Path(path)
    _check_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with output_lock([path]), _atomic_path(path) as tmp:
        yield tmp


@contextlib.contextmanager
def _atomic_path(path: Path) -> Iterator[Path]:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_open(path) as fh:
        fh.write(text)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    with atomic_open(path) as fh:
        json.dump(obj, fh, ensure_ascii=False, indent=2, sort_keys=False)
        fh.write("\n")


def write_jsonl(path: str | os.PathLike, rows: Iterable[dict]) -> int:
    n = 0
    with atomic_open(path) as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False))
            fh.write("\n")
            n += 1
    return n
