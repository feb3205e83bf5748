"""Connect to the Dask cluster --dask names: a LocalCluster of worker processes started
here (`local`, `local:N`), or a running scheduler (any other value, e.g. tcp://host:8786)."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from distributed import Client, LocalCluster

from batch_classifier.inference.errors import UsageError

CONNECT_TIMEOUT_S = 30
WORKERS_TIMEOUT_S = 120  # how long a scheduler may have no worker before the run gives up
LOOPBACK = "127.0.0.1"  # a local cluster (scheduler, workers, dashboard) listens here only
_LOCAL = re.compile(r"local(?::(\d+))?")


def local_workers(spec: str) -> int | None:
    """How many worker processes `local`/`local:N` asks for (one per core for `local`);
    None for a scheduler address."""
    found = _LOCAL.fullmatch(spec)
    if found is None:
        return None
    count = int(found.group(1)) if found.group(1) else os.cpu_count() or 1
    if count < 1:
        raise UsageError(f"--dask {spec}: a local cluster needs at least one worker")
    return count


def set_log_level(level: int) -> None:
    """Dask's loggers (each configured on its own, e.g. distributed.client) at `level`:
    with --quiet, a lost scheduler is the run's one error line, not Dask's tracebacks."""
    names = [name for name in logging.root.manager.loggerDict
             if name == "distributed" or name.startswith("distributed.")]
    for name in {"distributed", *names}:
        logging.getLogger(name).setLevel(level)


@contextmanager
def dask_client(spec: str, quiet: bool) -> Iterator[Client]:
    """A client of the cluster `spec` names, closed (with a local cluster) on leaving."""
    set_log_level(logging.CRITICAL if quiet else logging.WARNING)
    workers = local_workers(spec)
    with ExitStack() as stack:
        if workers is not None:
            threads = max(1, (os.cpu_count() or 1) // workers)
            cluster = stack.enter_context(LocalCluster(
                n_workers=workers, threads_per_worker=threads, processes=True,
                host=LOOPBACK, dashboard_address=f"{LOOPBACK}:0",  # any free port
                silence_logs=logging.CRITICAL if quiet else logging.ERROR))
            client = stack.enter_context(Client(cluster))
        else:
            try:
                client = stack.enter_context(Client(spec, timeout=CONNECT_TIMEOUT_S))
            except (OSError, ValueError, TypeError) as exc:
                raise UsageError(f"--dask {spec}: cannot reach a Dask scheduler there "
                                 f"({exc})") from None
        try:
            client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
        except TimeoutError:
            raise UsageError(f"--dask {spec}: the scheduler has had no worker for "
                             f"{WORKERS_TIMEOUT_S} s; start workers, or check they can "
                             "reach it") from None
        yield client
