"""The frame around a classify loop: output checks, lock, output (atomic, resumable or a
stream), signals, summary.

The inference core stays a pure function from a batch of inputs to result rows; a CLI
reads inputs, calls the core, and hands each batch of rows to `BatchJob.write`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from typing import Any

from batch_classifier.inference.cli_common import info
from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.files.keys import sha256_of
from batch_classifier.inference.formats import choose_format
from batch_classifier.inference.jobs.fileops import remove_stale_temps
from batch_classifier.inference.jobs.lock import OutputLock, lock_path
from batch_classifier.inference.jobs.resume import DoneRecords, drop_superseded, read_done
from batch_classifier.inference.jobs.runrecord import (
    RunRecord,
    check_record,
    record_path,
    remove_record,
    write_record,
)
from batch_classifier.inference.jobs.stop import GracefulStop
from batch_classifier.inference.jobs.summary import RunSummary, SummaryFile, tally
from batch_classifier.inference.jobs.targets import check_target, refuse_inputs
from batch_classifier.inference.output import ResultWriter, result_writer
from batch_classifier.inference.session import LoadedModel


class BatchJob:
    """One run writing `columns` rows (use as a context manager around the loop).

    The paths it will write are checked first (see `targets`): none may be one of
    `inputs` or named with one of `input_suffixes`. With an output file: holds its lock,
    clears temp files a killed run left, keeps a run record of the model and `settings`
    beside it, and with `resume` reads back `done` (what the file already holds, torn
    tail cut off, its first `input_columns` values digested), refuses an output whose
    record differs, and appends. With `tally_column`, the summary counts the rows by its
    values. SIGINT/SIGTERM set `stopping`; the loop finishes its batch and leaves. On
    leaving: the output is closed (or dropped on an error), the summary reported. An
    interrupted output written without `resume` is published (a later --resume finishes
    it) only if `partial_resumable`; else (classify-images, whose resumable outputs have
    key columns) the old output is left as it was.
    """

    def __init__(self, command: str, unit: str, model: LoadedModel, columns: list[str], *,
                 output_path: str | None, output_format: str | None, resume: bool,
                 summary_json: str | None, quiet: bool, key_columns: Sequence[str] = (),
                 inputs: Sequence[str | os.PathLike] = (),
                 input_suffixes: frozenset[str] = frozenset(),
                 settings: dict[str, Any] | None = None, input_columns: int = 0,
                 column_types: Mapping[str, str] | None = None,
                 tally_column: str | None = None, partial_resumable: bool = True):
        self._output = check_target(output_path, "-o", input_suffixes) if output_path else None
        self._summary_target = (check_target(summary_json, "--summary-json", input_suffixes)
                                if summary_json else None)
        if resume and (self._output is None or self._output.stream):
            raise UsageError("--resume needs -o FILE, a regular file (it continues what "
                             "that file holds)")
        refuse_inputs(self._written_paths(), inputs)
        if resume and choose_format(output_path, output_format) == "parquet":
            raise UsageError("--resume cannot continue a Parquet file (it is written whole); "
                             "use csv or jsonl, or --dask, whose parts resume")
        self.summary = RunSummary(command, unit, model, tally_name=tally_column)
        self.done = DoneRecords()
        self._columns = columns
        self._format = choose_format(output_path, output_format)
        self._column_types = column_types
        self._resume = resume
        self._summary_file: SummaryFile | None = None
        self._quiet = quiet
        self._settings = settings or {}
        self._input_columns = input_columns
        self.key_columns = key_columns
        self._partial_resumable = partial_resumable
        self._done_paths: set[str] = set()
        self._supersedes = False  # some rows replace older rows of the same key[0]
        self._stack = ExitStack()
        self._stop = GracefulStop()
        self._writer: ResultWriter | None = None

    def _written_paths(self) -> dict[str, os.PathLike]:
        """The paths this run writes, by what they are."""
        written = {}
        if self._output and not self._output.stream:
            written["-o"] = self._output.path
            written["lock file"] = lock_path(self._output.path)
            written["run record"] = record_path(self._output.path)
        if self._summary_target:
            written["--summary-json"] = self._summary_target.path
        return written

    def __enter__(self) -> BatchJob:
        with ExitStack() as stack:
            stack.enter_context(self._stop)
            output = self._output
            if output and not output.stream:
                stack.enter_context(OutputLock(output.path))
                remove_stale_temps(output.path)
                remove_stale_temps(record_path(output.path))
                if self._resume:
                    self._read_done()
            if self._summary_target:
                self._summary_file = SummaryFile(self._summary_target)
                stack.callback(self._summary_file.discard)
            self._writer = result_writer(output and output.path, self._format, self._columns,
                                         self._column_types, append=self._resume,
                                         stream=bool(output and output.stream))
            self._stack = stack.pop_all()
        return self

    def _run_record(self) -> RunRecord:
        model = self.summary.model
        return RunRecord(self.summary.command, str(model.path), sha256_of(model.path),
                         self._settings)

    def _read_done(self) -> None:
        self.done = read_done(self._output.path, self._format, self._columns,
                              self.key_columns, self._input_columns)
        if self.done.count:
            check_record(self._output.path, self._run_record())
        else:
            write_record(self._output.path, self._run_record())
        if self.done.repaired_bytes:
            info(f"{self.summary.command}: {self._output.path}: cut off a torn last record "
                 f"({self.done.repaired_bytes} bytes) left by an interrupted run", self._quiet)
        info(f"{self.summary.command}: resuming; {self.done.count} {self.summary.unit} "
             "already in the output", self._quiet)
        if self.key_columns:
            self._done_paths = {key[0] for key in self.done.keys}
            self._supersedes = len(self._done_paths) < self.done.count

    def _drop_superseded(self) -> None:
        dropped = drop_superseded(self._output.path, self._format, self._columns,
                                  self.key_columns[0])
        info(f"{self.summary.command}: dropped {dropped} older row(s) of files that "
             "changed since", self._quiet)

    @property
    def stopping(self) -> bool:
        """True once SIGINT/SIGTERM asked the job to stop after the current batch."""
        return self._stop.requested is not None

    def write(self, rows: list[list[Any]] | str, error_kinds: list[str | None]) -> None:
        """Write a batch of result rows, or of CSV records already rendered as text (see
        `formats.csv_record`); `error_kinds` has None for each classified one."""
        if isinstance(rows, str):
            self._writer.write_csv_text(rows)
        else:
            self._writer.write_rows(rows)
            self.summary.tally.update(tally(rows, self._columns, self.summary.tally_name))
        self.summary.count(error_kinds)
        if self._done_paths and not self._supersedes and not isinstance(rows, str):
            at = self._columns.index(self.key_columns[0])
            self._supersedes = any(row[at] in self._done_paths for row in rows)

    @property
    def format(self) -> str:
        """The output format: csv, jsonl or parquet."""
        return self._format

    def _close_output(self) -> None:
        """Publish the output; a replaced file gets its run record anew (removed first,
        so a crash in between leaves no record that describes other rows)."""
        if not self._output or self._output.stream or self._resume:
            self._writer.close()
            return
        record = self._run_record()
        remove_record(self._output.path)
        self._writer.close()
        write_record(self._output.path, record)

    def _keeps_old_output(self) -> bool:
        """True when a stop leaves the old output: this one could not be resumed."""
        return (bool(self._stop.requested) and not self._resume and not self._partial_resumable
                and self._output is not None and not self._output.stream)

    def skip(self, count: int) -> None:
        """Count inputs passed over because the output already holds them."""
        self.summary.skip(count)

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        with self._stack:
            if exc_type is None and self._keeps_old_output():
                self._writer.abort()
                info(f"{self.summary.command}: {self._output.path} left as it was (an "
                     "interrupted output written without --resume could not be resumed); "
                     "run again, with --resume to make it resumable", False)
            elif exc_type is None:
                self._close_output()
                if self._supersedes and not self._stop.requested:
                    self._drop_superseded()
            else:
                self._writer.abort()
            if not self.summary.finish(exc_type, self._stop.requested):
                return
            info(self.summary.line(), self._quiet)
            if self._summary_file:
                self._summary_file.write(self.summary.as_dict())

    @property
    def exit_code(self) -> int:
        """130 when interrupted, 1 when some inputs failed, else 0."""
        return self.summary.exit_code
