"""Export files kept on disk for a door that has no other way to hand them over (the local chat):
one folder per person under the data directory, a dated name for every file, never an overwrite,
and `remove` for `/delete_my_data`.

A person's folder is named by a hash of their chat key (the key itself never appears on disk).
Folders are made private to the bot's user (0700, files 0600). This module holds no user-facing
text and reads no clock: the day comes in as an argument. A door that can send a file from
memory (Telegram) never calls it, so nothing of theirs stays on disk.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
from pathlib import Path

EXPORTS = "exports"
_DATED = re.compile(r"\d{4}-\d{2}-\d{2}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_COPIES = 1000  # files with the same name on one day


class ExportFiles:
    """`<data dir>/exports/<hash of the chat key>/<name>-<YYYY-MM-DD>[-N].<ext>`."""

    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir) / EXPORTS

    def folder(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]
        return self.root / digest

    def keep(self, key: str, name: str, data: bytes, day: dt.date) -> Path:
        """Write `data` under a dated name that no file in the folder has yet; return the path."""
        folder = self.folder(key)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        stem, dot, ext = _UNSAFE.sub("-", Path(name).name).rpartition(".")
        if not dot:
            stem, ext = ext, ""
        if not _DATED.search(stem):
            stem = f"{stem}-{day.isoformat()}"
        suffix = f".{ext}" if ext else ""
        for copy in range(1, MAX_COPIES + 1):
            path = folder / (f"{stem}{suffix}" if copy == 1 else f"{stem}-{copy}{suffix}")
            try:  # "x": fails if the file exists, so two writers never overwrite each other
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            return path
        raise FileExistsError(f"more than {MAX_COPIES} copies of one export on one day")

    def files(self, key: str) -> list[Path]:
        folder = self.folder(key)
        return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []

    def remove(self, key: str) -> int:
        """Delete the person's folder and everything in it; return how many files there were."""
        folder = self.folder(key)
        count = len(self.files(key))
        shutil.rmtree(folder, ignore_errors=True)
        return count
