"""The model on the workers: its bytes travel from the client in a worker plugin, each
worker process checks their SHA-256 (and that it runs the client's batch-classifier
version) and loads the model once, and tasks take it from there (a worker restarted
after a crash gets the plugin, and the model, again)."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from distributed import Client, Worker, WorkerPlugin, get_worker

import batch_classifier
from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.session import LoadedModel, load_model


@dataclass(frozen=True)
class ModelSpec:
    """How workers load the model: its task, --device, and ONNX Runtime threads (None:
    as many as the worker has task threads)."""

    task: str
    device: str
    threads: int | None


class ModelPlugin(WorkerPlugin):
    """Carries an ONNX file to every worker and loads it there once."""

    def __init__(self, data: bytes, sha256: str, name: str, spec: ModelSpec):
        self.data, self.sha256, self.name, self.spec = data, sha256, name, spec
        self.version = batch_classifier.__version__  # the client's
        self.model: LoadedModel | None = None

    def setup(self, worker: Worker) -> None:
        if batch_classifier.__version__ != self.version:
            raise UsageError(f"the worker has batch-classifier {batch_classifier.__version__}, "
                             f"the client {self.version}: install the same on both")
        if hashlib.sha256(self.data).hexdigest() != self.sha256:
            raise UsageError(f"{self.name}: the model arrived damaged (SHA-256 differs)")
        path = Path(worker.local_directory) / f"model-{self.sha256}.onnx"
        if not path.is_file():
            temp = path.with_suffix(f".{os.getpid()}.tmp")
            temp.write_bytes(self.data)
            os.replace(temp, path)
        threads = self.spec.threads if self.spec.threads is not None else worker.state.nthreads
        self.model = load_model(path, device=self.spec.device, task=self.spec.task,
                                threads=threads)


@contextmanager
def model_on_workers(client: Client, path: Path, spec: ModelSpec) -> Iterator[str]:
    """Send the model at `path` to every worker (and to workers that join later) for
    the life of the block; yields the name tasks find it under (`worker_model`)."""
    data = path.read_bytes()
    name = f"batch-classifier-model-{uuid.uuid4().hex}"
    try:
        client.register_plugin(ModelPlugin(data, hashlib.sha256(data).hexdigest(), name, spec),
                               name=name)
    except UsageError as exc:
        raise UsageError(f"{path} on a Dask worker: {exc}") from None
    try:
        yield name
    finally:
        with suppress(OSError):  # a cluster already gone has nothing to unregister
            client.unregister_worker_plugin(name)


def worker_model(name: str) -> LoadedModel:
    """The model the plugin `name` loaded in this worker process."""
    return get_worker().plugins[name].model
