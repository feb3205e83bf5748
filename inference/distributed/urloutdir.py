"""The output folder of a distributed run at an fsspec URL (-o s3://bucket/out/): the
files of a local one (outdir.py), written through fsspec.

An object store can neither append nor rename, so: the journal is written whole, again
at most every JOURNAL_EVERY_S seconds as parts finish and once more at the end (a client
killed in between loses the last few lines, and --resume computes those parts again);
each part and `_SUCCESS` are one whole-file write (urls.put_file); and there is no lock
(the folder's parts and `_SUCCESS` are all there is: run one job per folder, e.g. from
one scheduled job), except for a file:// folder, locked as a local one.
"""

from __future__ import annotations

import json
import time
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from fsspec.implementations.local import LocalFileSystem

from batch_classifier.inference.distributed.outdir import (
    JOURNAL,
    PART,
    PART_NAME,
    SUCCESS,
    TEMP,
    check_plan,
    kept_temp,
    own_file,
    parse_journal,
    refuse_foreign_files,
    refuse_missing_parts,
    refuse_parts_without_journal,
)
from batch_classifier.inference.distributed.urls import filesystem, put_bytes
from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.jobs.lock import OutputLock

JOURNAL_EVERY_S = 5.0


class UrlOutputFolder:
    """-o URL: a folder (or key prefix) of this tool's files only, and `keep` (see
    OutputFolder)."""

    def __init__(self, url: str, fmt: str):
        self.fs, self._root = filesystem(url)
        self._root = self._root.rstrip("/")
        self.path = self.fs.unstrip_protocol(self._root)  # the URL, as workers write to it
        self.format = fmt
        self.keep: frozenset[str] = frozenset()
        if self.fs.isfile(self._root):
            raise UsageError(f"-o {self.path}: is a file; with --dask, -o names a folder "
                             "(of part files)")
        self._lines: list[str] = []
        self._written, self._when = 0, 0.0
        self._continuing = False

    @property
    def local_path(self) -> Path | None:
        """The folder on the local disk for a file:// URL; None elsewhere."""
        return Path(self._root) if isinstance(self.fs, LocalFileSystem) else None

    def lock(self) -> AbstractContextManager[object]:
        """A file:// folder is locked as a local one (`OUTDIR.lock`); elsewhere there is
        no lock (see the module's docstring)."""
        local = self.local_path
        return OutputLock(local) if local is not None else nullcontext()

    def part_path(self, number: int) -> str:
        """The URL part `number` goes to."""
        return f"{self.path}/{PART_NAME.format(number=number, format=self.format)}"

    def history(self, plan: dict[str, Any], resume: bool) -> dict[int, dict[str, Any]]:
        """As OutputFolder.history: with `resume`, the journal's latest record of each
        part, by number; else nothing; nothing is changed."""
        names, irregular = self._listing()
        refuse_foreign_files(self.path, names, self.keep, irregular)
        self._continuing = resume and JOURNAL in names
        if not self._continuing:
            refuse_parts_without_journal(self.path, names, resume)
            return {}
        data = self.fs.cat_file(f"{self._root}/{JOURNAL}")
        whole = data[:data.rfind(b"\n") + 1]
        stored, records = parse_journal(whole, f"{self.path}/{JOURNAL}")
        check_plan(self.path, stored, plan)
        self._lines = whole.decode().splitlines(keepends=True)
        self._written = len(self._lines)
        return {record["part"]: record for record in records}

    def done(self, records: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
        """The `records` whose part files are there."""
        names = set(self._listing()[0])
        return {number: r for number, r in records.items()
                if PART_NAME.format(number=number, format=self.format) in names}

    def start(self, plan: dict[str, Any]) -> None:
        """As OutputFolder.start: continue the journal `history` read, or empty the
        folder and write a new journal."""
        self.fs.makedirs(self._root, exist_ok=True)
        names = self._listing()[0]
        if not self._continuing:
            self._remove([SUCCESS, JOURNAL], names)  # _SUCCESS first: no longer complete
            self._remove([name for name in names if PART.fullmatch(name)], names)
            self._lines = [json.dumps({"plan": plan}) + "\n"]
            self.flush()
        self._remove(self._stale_temps(names), names)

    def record(self, part: dict[str, Any]) -> None:
        """Note a finished part in the journal (written every JOURNAL_EVERY_S)."""
        self._lines.append(json.dumps(part) + "\n")
        if time.monotonic() - self._when >= JOURNAL_EVERY_S:
            self.flush()

    def flush(self) -> None:
        """Write the journal if it has lines not written yet."""
        if self._written < len(self._lines):
            put_bytes(f"{self.path}/{JOURNAL}", "".join(self._lines).encode())
            self._written, self._when = len(self._lines), time.monotonic()

    def finish(self, numbers: set[int], success: dict[str, Any]) -> None:
        """Write the journal, check the parts `numbers` are all there, remove other
        parts (left by an earlier plan) and temporary files, then write `_SUCCESS`."""
        self.flush()
        names = self._listing()[0]
        refuse_missing_parts(self.path, numbers, names, self.format)
        self._remove([name for name in names if PART.fullmatch(name)
                      and int(PART.fullmatch(name).group(1)) not in numbers], names)
        self._remove(self._stale_temps(names), names)
        put_bytes(f"{self.path}/{SUCCESS}", (json.dumps(success, indent=2) + "\n").encode())

    def _stale_temps(self, names: list[str]) -> list[str]:
        return [name for name in names if TEMP.fullmatch(name) and not kept_temp(name, self.keep)]

    def _listing(self) -> tuple[list[str], list[str]]:
        """The names in the folder now (never a cached listing), and those of them named
        like this tool's files that are not files (a folder part-00000.csv)."""
        self.fs.invalidate_cache(self._root)
        try:
            listed = self.fs.ls(self._root, detail=True)
        except FileNotFoundError:
            return [], []
        names = [(entry["name"].rstrip("/").rsplit("/", 1)[-1], entry.get("type"))
                 for entry in listed]
        return [name for name, _ in names], [name for name, kind in names
                                             if kind != "file" and own_file(name)]

    def _remove(self, wanted: list[str], names: list[str]) -> None:
        """Remove the files of `wanted` that `names` holds, in that order."""
        for name in wanted:
            if name in names:
                self.fs.rm_file(f"{self._root}/{name}")
