"""Atomic file writes: readers see the old file or the complete new one, never half of one.

The new content goes to a temporary file beside the target, which then replaces it. What a user
set up around the file survives: a symlink stays a link and its target is written; the mode of
an existing file is kept (a new file gets the usual 0666 less the umask, not mkstemp's 0600);
a file with several hard links is rewritten in place once the new content is complete on disk,
since a rename would leave the other names on the old bytes (that last copy is the one step that
is not atomic; the complete new content is in the temporary file until it is done).

Temporary files are named ``.NAME.PID.XXXX.tmp``. They are removed when the write fails or is
interrupted (SIGINT, and SIGTERM once ``exit_on_sigterm`` is installed); a run killed outright
leaves one behind, which the next write to the same file finds (its process is gone) and removes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from dataforge.errors import DataforgeError


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _umask()


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike, durable: bool = True) -> Iterator[IO[bytes]]:
    """A binary file that replaces ``path`` only when the block finishes without an exception.

    ``durable`` also waits for the disk (fsync) before the rename; files that only save work
    (caches) skip it, since losing one to a power cut costs nothing but a repeat.
    """
    target = Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)
    try:
        existing = os.stat(target)
    except FileNotFoundError:
        existing = None
    except OSError as exc:
        raise DataforgeError(f"{path}: cannot write here ({exc.strerror})") from None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        raise DataforgeError(f"{path}: not a regular file (a folder, a pipe or a device); refusing to replace it")
    folder = target.parent
    remove_stale_temporaries(target)
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise DataforgeError(f"{path}: cannot write here ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fchmod(f.fileno(), stat.S_IMODE(existing.st_mode) if existing else 0o666 & ~_UMASK)
            if durable:
                os.fsync(f.fileno())
        if existing is not None and existing.st_nlink > 1:
            with open(temp, "rb") as new, open(target, "r+b") as old:
                shutil.copyfileobj(new, old)
                old.truncate()
                if durable:
                    os.fsync(old.fileno())
            os.unlink(temp)
        else:
            os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def remove_stale_temporaries(target: Path) -> int:
    """Remove the temporary files of writes to ``target`` whose process is gone; how many."""
    prefix = f".{target.name}."
    removed = 0
    try:
        names = [n for n in os.listdir(target.parent or ".") if n.startswith(prefix) and n.endswith(".tmp")]
    except OSError:
        return 0
    for name in names:
        pid = name[len(prefix):].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                os.unlink(target.parent / name)
                removed += 1
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name the same file (through links, and however they are spelt)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def exit_on_sigterm() -> None:
    """Make SIGTERM unwind like Ctrl-C does, so pending writes remove their temporary files."""
    def handler(signum, frame):
        raise SystemExit(128 + signum)

    with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
        signal.signal(signal.SIGTERM, handler)


def check_output(out: str | os.PathLike, inputs: list, replace: bool = False) -> None:
    """Refuse an output that is one of the inputs (always: it would be read while it is replaced),
    a folder, or an existing file unless ``replace`` (the user's --force) says so."""
    out = Path(out)
    for source in inputs:
        if same_file(source, out):
            raise DataforgeError(f"{out}: the output is one of the inputs ({source})",
                                 hint="write to another file")
    if out.is_dir():
        raise DataforgeError(f"{out}: the output is a folder", hint="give a file name ending in .jsonl or .json")
    if not replace and out.exists():
        raise DataforgeError(f"{out} already exists", hint="pass --force to replace it, or choose another output")
