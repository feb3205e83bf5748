"""The client side of a distributed run: the output folder (its lock, journal and
`_SUCCESS`), one task per planned part with a bounded number in flight, SIGINT/SIGTERM,
the summary line and --summary-json, and the exit code, as a local run has them."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import CancelledError
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from itertools import chain
from typing import TYPE_CHECKING, Any

from distributed import Client, Future, wait
from distributed.scheduler import KilledWorker

from batch_classifier.inference.cli_common import info
from batch_classifier.inference.distributed.cluster import dask_client
from batch_classifier.inference.distributed.guards import refuse_inputs_inside, summary_target
from batch_classifier.inference.distributed.options import is_url
from batch_classifier.inference.distributed.outdir import OutputFolder
from batch_classifier.inference.distributed.parts import PartResult
from batch_classifier.inference.distributed.workermodel import ModelSpec, model_on_workers
from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.jobs.stop import GracefulStop
from batch_classifier.inference.jobs.summary import RunSummary, SummaryFile
from batch_classifier.inference.session import LoadedModel

if TYPE_CHECKING:
    from batch_classifier.inference.distributed.urloutdir import UrlOutputFolder

POLL_S = 0.2  # how often the client looks for a stop signal while parts run


@dataclass(frozen=True)
class PlannedPart:
    """A part as the client plans it: its number, a digest of what it covers (a resumed
    run redoes a part whose digest changed), a description for the journal and the
    task's own description of it."""

    number: int
    digest: str
    description: dict[str, Any] = field(default_factory=dict)
    spec: Any = None  # what the task is given to make the part


class DaskJob:
    """One distributed run of `inputs` writing parts into `output` (use as a context
    manager); with `tally_column`, the summary counts the rows by its values. The folder
    is left as it was until planning finds the first part: a run that fails before (no
    cluster, no model on the workers, an unreadable input) changes nothing."""

    def __init__(self, command: str, unit: str, model: LoadedModel, *, output: str,
                 fmt: str, plan: dict[str, Any], resume: bool, summary_json: str | None,
                 quiet: bool, inputs: list[str], input_suffixes: frozenset[str] = frozenset(),
                 tally_column: str | None = None):
        self.folder = output_folder(output, fmt)
        refuse_inputs_inside(inputs, self.folder)
        self._summary_target, self.folder.keep = summary_target(summary_json, self.folder,
                                                                inputs, input_suffixes)
        self.summary = RunSummary(command, unit, model, tally_name=tally_column)
        self._plan, self._resume, self._quiet = plan, resume, quiet
        self._records: dict[int, dict[str, Any]] = {}
        self.history: dict[int, dict[str, Any]] = {}  # what the journal held (--resume)
        self._stop = GracefulStop()
        self._stack = ExitStack()
        self._summary_file: SummaryFile | None = None
        self._parts = self._skipped_parts = 0
        self._finished = False

    def __enter__(self) -> DaskJob:
        with ExitStack() as stack:
            stack.enter_context(self._stop)
            stack.enter_context(self.folder.lock())
            if self._summary_target:
                self._summary_file = SummaryFile(self._summary_target)
                stack.callback(self._summary_file.discard)
            self.history = self.folder.history(self._plan, self._resume)
            stack.callback(self.folder.flush)  # a URL folder's journal, written whole
            self._stack = stack.pop_all()
        return self

    @property
    def stopping(self) -> bool:
        """True once SIGINT/SIGTERM asked the job to stop."""
        return self._stop.requested is not None

    def run(self, client: Client, parts: Iterable[PlannedPart],
            function: Callable[..., PartResult], task: Any) -> None:
        """For each part not done yet, submit `function(part.spec, part.number, part file
        path, task)` (at most two per worker thread in flight); record each finished part,
        and write `_SUCCESS` once all are there. Losing the scheduler is one UsageError."""
        try:
            self._run(client, parts, function, task)
        except (CancelledError, OSError) as exc:  # CommClosedError is an OSError
            if client.status == "running" and not isinstance(exc, CancelledError):
                raise
            raise UsageError(f"lost the Dask scheduler ({type(exc).__name__}); the parts "
                             "done are kept: finish with --resume") from None

    def _run(self, client: Client, parts: Iterable[PlannedPart],
             function: Callable[..., PartResult], task: Any) -> None:
        window = 2 * max(1, sum(client.nthreads().values()))
        token = uuid.uuid4().hex

        def submit(part: PlannedPart) -> Future:
            path = str(self.folder.part_path(part.number))
            return client.submit(function, part.spec, part.number, path, task, pure=False,
                                 key=f"{self.summary.command}-part-{part.number}-{token}")

        parts = iter(parts)
        first = next(parts, None)  # the inputs are there and readable: start the folder
        self.folder.start(self._plan)
        already = self.folder.done(self.history)
        pending: dict[Future, PlannedPart] = {}
        for part in chain([first] if first else [], parts):
            self._parts += 1
            done = already.get(part.number)
            if done is not None and done.get("digest") == part.digest:
                self._records[part.number] = done
                self._skipped_parts += 1
                self.summary.skip(done["rows"])
                continue
            while len(pending) >= window and not self.stopping:
                self._collect(pending)
            if self.stopping:
                break
            pending[submit(part)] = part
        while pending and not self.stopping:
            self._collect(pending)
        if self.stopping:
            client.cancel(list(pending))
            return
        self.folder.finish(set(self._records), self._success())
        self._finished = True

    def _collect(self, pending: dict[Future, PlannedPart]) -> None:
        """Wait for some part to finish (or POLL_S) and record what finished."""
        try:
            finished, _ = wait(list(pending), timeout=POLL_S, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return
        for future in finished:
            part = pending.pop(future)
            result = _result(future, part)
            record = {**result.as_record(), "digest": part.digest, **part.description}
            self.folder.record(record)
            self._records[part.number] = record
            self.summary.seen += result.rows
            self.summary.classified += result.classified
            self.summary.failed.update(result.failed)
            self.summary.tally.update(result.tally)

    def _success(self) -> dict[str, Any]:
        records = [self._records[number] for number in sorted(self._records)]
        failed = sum((Counter(r["failed"]) for r in records), Counter())
        tallied = sum((Counter(r.get("tally", {})) for r in records), Counter())
        contract = self.summary.model.contract
        return {
            "command": self.summary.command, "parts": len(records),
            "format": self.folder.format, "columns": self._plan["columns"],
            self.summary.unit: sum(r["rows"] for r in records),
            "classified": sum(r["classified"] for r in records),
            "failed": sum(failed.values()), "failed_by_kind": dict(failed),
            **({f"by_{self.summary.tally_name}": dict(tallied)}
               if self.summary.tally_name else {}),
            "model": {"file": str(self.summary.model.path), "name": contract.model_name,
                      "sha256": self._plan["model_sha256"],
                      "trainer_version": contract.trainer_version,
                      "data_fingerprint": contract.data_fingerprint},
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "seconds_this_run": round(self.summary.seconds, 3),
            "providers": dict(Counter(r["provider"] for r in records)),
            "part_list": records,
        }

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        with self._stack:
            if not self.summary.finish(exc_type, self._stop.requested):
                return
            info(self.summary.line(), self._quiet)
            if self._finished:
                skipped = self._skipped_parts
                info(f"{self.summary.command}: {self._parts} parts in {self.folder.path}"
                     f"{f' ({skipped} already done)' if skipped else ''}; _SUCCESS written",
                     self._quiet)
            if self._summary_file:
                self._summary_file.write(self.summary.as_dict())

    @property
    def exit_code(self) -> int:
        """130 when interrupted, 1 when some inputs failed, else 0."""
        return self.summary.exit_code


def output_folder(output: str, fmt: str) -> OutputFolder | UrlOutputFolder:
    """-o OUTDIR: a local folder, or one at an fsspec URL."""
    if is_url(output):
        from batch_classifier.inference.distributed.urloutdir import UrlOutputFolder

        return UrlOutputFolder(output, fmt)
    return OutputFolder(output, fmt)


@contextmanager
def dask_job(command: str, unit: str, model: LoadedModel, params: dict[str, Any], fmt: str,
             plan: dict[str, Any], spec: ModelSpec, inputs: list[str],
             input_suffixes: frozenset[str] = frozenset(), tally_column: str | None = None,
             ) -> Iterator[tuple[DaskJob, Client, str]]:
    """A distributed run of a classify command with its CLI `params` over `inputs`: the
    job (its output folder locked first), a client of the cluster, and the name workers
    find the model under (`tally_column`: see DaskJob)."""
    quiet = params["quiet"]
    with DaskJob(command, unit, model, output=params["output_path"], fmt=fmt, plan=plan,
                 resume=params["resume"], summary_json=params["summary_json"],
                 quiet=quiet, inputs=inputs, input_suffixes=input_suffixes,
                 tally_column=tally_column) as job, \
            dask_client(params["scheduler"], quiet) as client, \
            model_on_workers(client, model.path, spec) as model_name:
        info(f"{command}: model {model.path.name} ({model.contract.model_name}) on "
             f"{len(client.nthreads())} Dask workers ({params['scheduler']})", quiet)
        yield job, client, model_name


def _result(future: Future, part: PlannedPart) -> PartResult:
    """The part's result, or its failure as one clear error."""
    try:
        return future.result()
    except UsageError as exc:
        raise UsageError(f"part {part.number}: {exc}") from None
    except KilledWorker:
        raise UsageError(f"part {part.number}: the workers running it died again and again "
                         "(out of memory?); the parts done are kept, finish with "
                         "--resume") from None
    except Exception as exc:  # any failure inside the task, as the worker raised it
        raise UsageError(f"part {part.number} failed on a worker "
                         f"({type(exc).__name__}: {exc})") from None
