"""The output folder of a distributed run (-o OUTDIR with --dask).

It holds `part-00000.csv`, `part-00001.csv`, ... (or .jsonl, .parquet), each written
atomically by the worker that made it; `_progress.jsonl`, the client's journal (the
plan on its first line, then one line per finished part, appended and fsynced); and
`_SUCCESS`, written last, when every part is there. A part counts as done when the
journal says so and its file is there: that is what --resume skips.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

from batch_classifier.inference.distributed.urls import absolute
from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.jobs.fileops import TEMP_MARK, create_temp, remove_stale_temps
from batch_classifier.inference.jobs.lock import OutputLock

SUCCESS = "_SUCCESS"
JOURNAL = "_progress.jsonl"
PART_NAME = "part-{number:05d}.{format}"
PART = re.compile(r"part-(\d{5,})\.(csv|jsonl|parquet)")
TEMP = re.compile(r"\.(.+)\." + re.escape(TEMP_MARK) + r"\.[0-9a-f]{16}\.tmp")


class OutputFolder:
    """-o OUTDIR: a folder (made if missing) of this tool's files only, and `keep`: names
    of the run's own files it may also hold (--summary-json FILE inside it)."""

    def __init__(self, path: str | os.PathLike, fmt: str):
        self.path = Path(absolute(path))  # workers elsewhere write into it
        self.format = fmt
        self.keep: frozenset[str] = frozenset()
        self._continuing = False
        try:
            info = os.lstat(self.path)
        except FileNotFoundError:
            info = None
        if info is not None and stat.S_ISLNK(info.st_mode):
            raise UsageError(f"-o {self.path}: is a symbolic link; name the folder itself")
        if info is not None and not stat.S_ISDIR(info.st_mode):
            raise UsageError(f"-o {self.path}: is a file; with --dask, -o names a folder "
                             "(of part files)")
        if not self.path.parent.is_dir():
            raise UsageError(f"-o {self.path}: folder does not exist ({self.path.parent})")

    @property
    def local_path(self) -> Path:
        """The folder on the local disk."""
        return self.path

    def lock(self) -> OutputLock:
        """The lock a run holds on the folder (`OUTDIR.lock`, beside it)."""
        return OutputLock(self.path)

    def flush(self) -> None:
        """Nothing to do: the journal is written line by line as parts finish."""

    def part_path(self, number: int) -> Path:
        """Where part `number` goes."""
        return self.path / PART_NAME.format(number=number, format=self.format)

    def history(self, plan: dict[str, Any], resume: bool) -> dict[int, dict[str, Any]]:
        """What an earlier run of `plan` recorded (call while holding the lock; nothing is
        changed but a torn last journal line): with `resume`, the journal's latest record
        of each part, by number (after checking the plan is the same); else nothing.
        Refuses a folder holding anything but this tool's files."""
        if not self.path.is_dir():
            return {}
        entries = list(os.scandir(self.path))
        names = [entry.name for entry in entries]
        refuse_foreign_files(self.path, names, self.keep,
                             [e.name for e in entries if not e.is_file(follow_symlinks=False)])
        journal = self.path / JOURNAL
        self._continuing = resume and journal.exists()
        if not self._continuing:
            refuse_parts_without_journal(self.path, names, resume)
            return {}
        stored, records = _read_journal(journal)
        check_plan(self.path, stored, plan)
        return {record["part"]: record for record in records}

    def done(self, records: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
        """The `records` whose part files are there."""
        return {number: r for number, r in records.items() if self.part_path(number).exists()}

    def start(self, plan: dict[str, Any]) -> None:
        """Make the folder ready for the parts (once planning has found the first one):
        the journal `history` read is continued; else the folder is emptied and a new
        journal started."""
        self.path.mkdir(exist_ok=True)
        if not self._continuing:
            self._clear()
            _write_line(self.path / JOURNAL, {"plan": plan}, create=True)
        self._remove_stale_temps()

    def record(self, part: dict[str, Any]) -> None:
        """Note a finished part in the journal."""
        _write_line(self.path / JOURNAL, part)

    def finish(self, numbers: set[int], success: dict[str, Any]) -> None:
        """Check the parts `numbers` are all there, remove other parts (left by an
        earlier plan), then write `_SUCCESS` atomically."""
        names = os.listdir(self.path)
        refuse_missing_parts(self.path, numbers, names, self.format)
        for name in names:
            found = PART.fullmatch(name)
            if found and int(found.group(1)) not in numbers:
                (self.path / name).unlink()
        self._remove_stale_temps()
        fd, temp = create_temp(self.path / SUCCESS)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(success, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, self.path / SUCCESS)

    def _clear(self) -> None:
        """Remove `_SUCCESS` first (the folder is no longer complete), then the rest."""
        (self.path / SUCCESS).unlink(missing_ok=True)
        (self.path / JOURNAL).unlink(missing_ok=True)
        for name in os.listdir(self.path):
            if PART.fullmatch(name):
                (self.path / name).unlink()

    def _remove_stale_temps(self) -> None:
        """Temporary files of parts whose writer died (a killed worker or client)."""
        for name in os.listdir(self.path):
            found = TEMP.fullmatch(name)
            if found:
                remove_stale_temps(self.path / found.group(1))


def own_file(name: str, keep: frozenset[str] = frozenset()) -> bool:
    """True for a name this tool writes in an output folder (or one of `keep`, or a
    temporary file of one)."""
    return bool(PART.fullmatch(name) or TEMP.fullmatch(name) or name in (SUCCESS, JOURNAL)
                or name in keep)


def kept_temp(name: str, keep: frozenset[str]) -> bool:
    """True for the temporary file of one of `keep` (a live run's summary, say)."""
    temp = TEMP.fullmatch(name)
    return bool(temp and temp.group(1) in keep)


def refuse_foreign_files(folder: str | Path, names: list[str],
                         keep: frozenset[str] = frozenset(),
                         irregular: list[str] | None = None) -> None:
    """A UsageError if the folder's `names` hold one that is not this tool's (or is
    named like one but is `irregular`: a folder, a link...)."""
    foreign = sorted({name for name in names if not own_file(name, keep)} | set(irregular or ()))
    if foreign:
        shown = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
        raise UsageError(f"-o {folder}: holds files that are not this tool's parts "
                         f"({shown}); name a new or empty folder")


def refuse_parts_without_journal(folder: str | Path, names: list[str], resume: bool) -> None:
    """--resume of a folder with parts but no journal: a UsageError."""
    if resume and any(PART.fullmatch(name) for name in names):
        raise UsageError(f"-o {folder}: holds parts but no {JOURNAL}; run without --resume "
                         "to write it again")


def refuse_missing_parts(folder: str | Path, numbers: set[int], names: list[str],
                         fmt: str) -> None:
    """A UsageError unless every part of `numbers` is among `names` (what the client
    lists): workers that write where the client cannot read (memory://, a disk of their
    own) must not make a run that keeps nothing look like a success."""
    listed = set(names)
    missing = sorted(n for n in numbers if PART_NAME.format(number=n, format=fmt) not in listed)
    if missing:
        raise UsageError(f"-o {folder}: {len(missing)} of {len(numbers)} parts the workers "
                         f"wrote are not where the client can read them (first: part "
                         f"{missing[0]}); the workers and the client must share the output "
                         "folder (a shared file system or an object store); no _SUCCESS "
                         "written")


def _write_line(path: Path, value: dict[str, Any], create: bool = False) -> None:
    flags = os.O_WRONLY | os.O_APPEND | (os.O_CREAT | os.O_EXCL if create else 0)
    fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
    try:
        os.write(fd, (json.dumps(value) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_journal(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The plan and the part records of a journal; a torn last line (a client killed
    while writing it) is cut off."""
    data = path.read_bytes()
    whole = data[:data.rfind(b"\n") + 1]
    if len(whole) < len(data):
        os.truncate(path, len(whole))
    return parse_journal(whole, path)


def parse_journal(whole: bytes, path: str | Path) -> tuple[dict[str, Any],
                                                          list[dict[str, Any]]]:
    """The plan and the part records of the whole lines of the journal at `path`."""
    try:
        lines = [json.loads(line) for line in whole.splitlines()]
        plan = lines[0]["plan"]
    except (ValueError, IndexError, KeyError, TypeError):
        raise UsageError(f"{path}: not a journal of this tool; run without --resume") from None
    return plan, [line for line in lines[1:] if isinstance(line, dict) and "part" in line]


def check_plan(folder: str | Path, stored: dict[str, Any], plan: dict[str, Any]) -> None:
    differences = [f"{key}: {stored.get(key)!r} in the folder, {plan.get(key)!r} now"
                   for key in sorted(set(stored) | set(plan)) if stored.get(key) != plan.get(key)]
    if differences:
        raise UsageError(f"-o {folder}: its parts were written by another job "
                         f"({'; '.join(differences)}); resume with the same inputs and "
                         "options, or run without --resume")
