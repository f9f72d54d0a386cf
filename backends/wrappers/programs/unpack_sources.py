"""argo-migrate: a workflow's sources, shipped as a ConfigMap bundle, laid out again in the workflow's folder.

Usage: python3 -c "$AM_UNPACK" BUNDLE FOLDER

A ConfigMap's keys cannot hold folders, so migrator/source_bundle.py stores each file under a flat key and
``argo-migrate-index.json`` maps keys to paths relative to the workflow's folder. The files go to FOLDER at those
paths, where the engine finds them as on the author's machine (Snakefiles and scripts beside it, configuration
and sample sheets relative to the working directory, as Snakemake's own source deployment lays them out).

A file already in FOLDER is kept: on the shared volume it is a job's output or the copy of a step that ran first,
and parallel steps unpack the same bundle at once, so each file is created whole (written aside, then linked in
place, which fails rather than replaces). A bundle without an index is no bundle: nothing is copied.
"""

import json
import os
import sys
import tempfile

INDEX = "argo-migrate-index.json"


def place(source: str, destination: str) -> bool:
    """Create ``destination`` with the bytes of ``source`` unless it exists; whether it was created."""
    if os.path.lexists(destination):
        return False
    folder = os.path.dirname(destination)
    os.makedirs(folder, exist_ok=True)
    with open(source, "rb") as handle:
        data = handle.read()
    fd, aside = tempfile.mkstemp(prefix=".argo-migrate-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(aside, 0o644)
        try:
            os.link(aside, destination)
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links: a rename, which never leaves a partial file
            if os.path.lexists(destination):
                return False
            os.replace(aside, destination)
            return True
        return True
    finally:
        if os.path.lexists(aside):
            os.unlink(aside)


def unpack(bundle: str, folder: str) -> int:
    index_path = os.path.join(bundle, INDEX)
    if not os.path.isfile(index_path):
        return 0
    with open(index_path, encoding="utf-8") as handle:
        index = json.load(handle)
    placed = 0
    for key, relative in sorted(index.items()):
        parts = [p for p in str(relative).split("/") if p]
        if (not parts or any(p in (".", "..") for p in parts) or str(relative).startswith("/")
                or "/" in key or key.startswith(".")):
            raise ValueError(f"{INDEX}: entry {key!r} -> {relative!r} is not a plain relative path")
        placed += place(os.path.join(bundle, key), os.path.join(folder, *parts))
    return placed


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: unpack_sources BUNDLE FOLDER")
    try:
        count = unpack(sys.argv[1], sys.argv[2])
    except (OSError, ValueError) as exc:
        sys.exit(f"argo-migrate: cannot lay out the workflow's sources: {exc}")
    print(f"argo-migrate: {count} source file(s) of the bundle placed in {sys.argv[2]}", file=sys.stderr)
