"""Atomic output: a reader (``kubectl apply``, a CI diff) never sees half a manifest, and a failure leaves no debris."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


class WriteError(Exception):
    """An output path could not be created or written; the pipeline reports it as AM003."""

    def __init__(self, path: str | os.PathLike[str], cause: OSError) -> None:
        self.path = os.fspath(path)
        self.cause = cause
        reason = cause.strerror or str(cause)
        super().__init__(f"cannot write {self.path}: {reason}")


def ensure_dir(path: str | os.PathLike[str]) -> None:
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:  # includes "exists as a file" and "a parent is a file"
        raise WriteError(path, exc) from exc


def _default_mode() -> int:
    # mkstemp creates 0o600 files; outputs should get the permissions an ordinary ``open(path, "w")`` would.
    # Reading the umask means setting it; this is not thread-safe, and the CLI is single-threaded.
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_text(path: str | os.PathLike[str], content: str) -> None:
    """Write UTF-8 ``content`` atomically: a temporary file in the same folder, fsync, then ``os.replace``.

    Bytes are written as given, so ``\\n`` stays LF on every platform (text mode would translate it on Windows).
    """
    target = Path(path)
    data = content.encode("utf-8")
    try:
        # Same folder: os.replace is atomic only within one file system.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise WriteError(target, exc) from exc
    try:
        try:
            if hasattr(os, "fchmod"):  # not on Windows before Python 3.13
                os.fchmod(fd, _default_mode())
            view = memoryview(data)
            while view:  # os.write may write less than asked (signals, pipes); loop until all is out
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException as exc:
        # BaseException: a Ctrl-C mid-write must not leave the temporary file behind either.
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            raise WriteError(target, exc) from exc
        raise
    _sync_dir(target.parent)


def _sync_dir(folder: Path) -> None:
    # Makes the rename itself durable; best effort, as some file systems refuse fsync on folders.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
