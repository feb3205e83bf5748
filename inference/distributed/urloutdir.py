"""The output folder of a distributed run at an fsspec URL (-o s3://bucket/out/): the
files of a local one (outdir.py), written through fsspec.

An object store can neither append nor rename, so: the journal is written whole, again
at most every JOURNAL_EVERY_S seconds as parts finish and once more at the end (a client
killed in between loses the last few lines, and --resume computes those parts again);
each part and `_SUCCESS` are one whole-file write (urls.put_file); and there is no lock
(the folder's parts and `_SUCCESS` are all there is: run one job per folder, e.g. from
one scheduled job).
"""

from __future__ import annotations

import json
import time
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from batch_classifier.inference.distributed.outdir import (
    JOURNAL,
    PART,
    PART_NAME,
    SUCCESS,
    TEMP,
    check_plan,
    parse_journal,
    refuse_foreign_files,
    refuse_parts_without_journal,
)
from batch_classifier.inference.distributed.urls import filesystem, put_bytes
from batch_classifier.inference.errors import UsageError

JOURNAL_EVERY_S = 5.0


class UrlOutputFolder:
    """-o URL: a folder (or key prefix) of this tool's files only."""

    def __init__(self, url: str, fmt: str):
        self.fs, self._root = filesystem(url)
        self._root = self._root.rstrip("/")
        self.path = self.fs.unstrip_protocol(self._root)  # the URL, as workers write to it
        self.format = fmt
        if self.fs.isfile(self._root):
            raise UsageError(f"-o {self.path}: is a file; with --dask, -o names a folder "
                             "(of part files)")
        self._lines: list[str] = []
        self._written, self._when = 0, 0.0

    def lock(self) -> AbstractContextManager[None]:
        """No lock: a URL has nothing to hold one with (see the module's docstring)."""
        return nullcontext()

    def part_path(self, number: int) -> str:
        """The URL part `number` goes to."""
        return f"{self.path}/{PART_NAME.format(number=number, format=self.format)}"

    def prepare(self, plan: dict[str, Any], resume: bool) -> dict[int, dict[str, Any]]:
        """As OutputFolder.prepare: with `resume`, the journal's finished parts whose
        files are there, by number; else an emptied folder, with a new journal."""
        self.fs.makedirs(self._root, exist_ok=True)
        names = self._names()
        refuse_foreign_files(self.path, names)
        done: dict[int, dict[str, Any]] = {}
        if resume and JOURNAL in names:
            data = self.fs.cat_file(f"{self._root}/{JOURNAL}")
            whole = data[:data.rfind(b"\n") + 1]
            stored, records = parse_journal(whole, f"{self.path}/{JOURNAL}")
            check_plan(self.path, stored, plan)
            done = {r["part"]: r for r in records
                    if PART_NAME.format(number=r["part"], format=self.format) in names}
            self._lines = whole.decode().splitlines(keepends=True)
            self._written = len(self._lines)
        else:
            refuse_parts_without_journal(self.path, names, resume)
            self._remove([SUCCESS, JOURNAL], names)  # _SUCCESS first: no longer complete
            self._remove([name for name in names if PART.fullmatch(name)], names)
            self._lines = [json.dumps({"plan": plan}) + "\n"]
            self.flush()
        self._remove([name for name in names if TEMP.fullmatch(name)], names)
        return done

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

    def finish(self, parts: int, success: dict[str, Any]) -> None:
        """Write the journal, remove parts numbered `parts` or more (left by a larger
        earlier plan) and temporary files, then write `_SUCCESS`."""
        self.flush()
        names = self._names()
        self._remove([name for name in names if TEMP.fullmatch(name)
                      or (PART.fullmatch(name) and int(PART.fullmatch(name).group(1)) >= parts)],
                     names)
        put_bytes(f"{self.path}/{SUCCESS}", (json.dumps(success, indent=2) + "\n").encode())

    def _names(self) -> list[str]:
        """The names in the folder now (never a cached listing)."""
        self.fs.invalidate_cache(self._root)
        try:
            listed = self.fs.ls(self._root, detail=False)
        except FileNotFoundError:
            return []
        return [name.rstrip("/").rsplit("/", 1)[-1] for name in listed]

    def _remove(self, wanted: list[str], names: list[str]) -> None:
        """Remove the files of `wanted` that `names` holds, in that order."""
        for name in wanted:
            if name in names:
                self.fs.rm_file(f"{self._root}/{name}")
