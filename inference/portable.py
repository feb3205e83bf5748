"""Models that travel with the Python API objects: what a classifier pickles instead of
its ONNX Runtime session (a shipped model's short name, or a custom model's bytes with
their SHA-256), and the process-wide cache that loads each model once per process,
however many unpickled copies ask for it (Dask tasks, multiprocessing, Spark)."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

from batch_classifier.inference.arguments import check_whole
from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.models import MODEL_FILES, resolve_model
from batch_classifier.inference.session import (
    LoadedModel,
    check_device,
    load_model,
    read_model_file,
)

# (process id, task, SHA-256, device, threads) -> the session loaded in that process
# (a forked child does not use its parent's), kept for the process's life; and SHA-256
# -> custom model bytes, so that unpickled copies share one buffer.
_LOADED: dict[tuple[int, str, str, str, int], LoadedModel] = {}
_BYTES: dict[str, bytes] = {}
_LOADING = threading.Lock()


def _unlock_in_child() -> None:
    """A child forked while another thread was loading gets a lock nobody holds."""
    global _LOADING
    _LOADING = threading.Lock()


os.register_at_fork(after_in_child=_unlock_in_child)


class PortableModel:
    """Which model file, in a form that pickles: a shipped model travels as its short
    name (the receiving process opens its own copy, refused unless it has the same
    SHA-256), any other model as its bytes (refused on unpickling if they no longer
    match their SHA-256). `path` names the model in messages."""

    def __init__(self, task: str, path: Path, sha256: str, shipped: str | None,
                 data: bytes | None):
        self.task, self.path, self.sha256 = task, path, sha256
        self.shipped, self.data = shipped, data

    @classmethod
    def find(cls, task: str, spec: str) -> PortableModel:
        """The model a --model value names: a shipped model's short name, or a path."""
        path = resolve_model(task, spec)
        data = read_model_file(path)
        shipped = shipped_name(task, path)
        return cls(task, path, _sha256(data), shipped, None if shipped else data)

    def load(self, device: str, threads: int) -> LoadedModel:
        """This model's session in this process: loaded on the first call, then shared."""
        key = (os.getpid(), self.task, self.sha256, device, threads)
        with _LOADING:
            if key not in _LOADED:
                _LOADED[key] = load_model(self.path, device=device, task=self.task,
                                          threads=threads, data=self._bytes())
            return _LOADED[key]

    def _bytes(self) -> bytes:
        if self.data is not None:
            return self.data
        path = resolve_model(self.task, self.shipped)
        data = read_model_file(path)
        if _sha256(data) != self.sha256:
            raise UsageError(f"shipped model {self.shipped!r}: {path} here is not the model "
                             f"the classifier was made with (SHA-256 differs); install the "
                             f"same batch-classifier version on both sides")
        return data

    def __getstate__(self) -> dict[str, Any]:
        return {"task": self.task, "path": str(self.path), "sha256": self.sha256,
                "shipped": self.shipped, "data": self.data}

    def __setstate__(self, state: dict[str, Any]) -> None:
        data = state["data"]
        if data is not None:
            if _sha256(data) != state["sha256"]:
                raise UsageError(f"{state['path']}: the pickled model is damaged (its bytes "
                                 f"do not match the SHA-256 recorded with them)")
            data = _BYTES.setdefault(state["sha256"], data)
        self.__init__(state["task"], Path(state["path"]), state["sha256"], state["shipped"],
                      data)


class TravellingModel:
    """Base of the API classes: the model loads on first use in each process through
    the process-wide cache (`model`); the object pickles as its PortableModel and
    options, never the session; Dask tokenizes it by the same (same model and options,
    same token)."""

    task: str  # "cities" or "images", set by each subclass

    def _open(self, model: str | os.PathLike, device: str, threads: int) -> None:
        check_device(device)
        self._source: PortableModel | None = PortableModel.find(self.task, os.fspath(model))
        self._options = (device, check_whole("threads", threads, 0))
        self._model: LoadedModel | None = None
        self._pid = os.getpid()
        self.model  # noqa: B018 -- loaded now: a bad model or device is refused here

    def _wrap(self, model: LoadedModel) -> None:
        self._source, self._options = None, ("auto", 0)
        self._model, self._pid = model, os.getpid()

    @property
    def model(self) -> LoadedModel:
        """The loaded model: loaded in this process on first use (a forked child loads
        its own: a session's threads do not survive a fork)."""
        if self._model is None or self._pid != os.getpid():
            self._model, self._pid = self._portable().load(*self._options), os.getpid()
        return self._model

    def _portable(self) -> PortableModel:
        if self._source is None:  # wrapped around a model loaded elsewhere
            self._source = PortableModel.find(self.task, os.fspath(self._model.path))
        return self._source

    def __getstate__(self) -> dict[str, Any]:
        return dict(self.__dict__, _source=self._portable(), _model=None)

    def __dask_tokenize__(self) -> tuple:
        state = self.__getstate__()
        source = state.pop("_source")
        return (type(self).__qualname__, source.task, source.sha256,
                sorted((name, repr(value)) for name, value in state.items()
                       if name not in ("_model", "_pid")))


def shipped_name(task: str, path: Path) -> str | None:
    """The short name of the shipped model that `path` is, or None."""
    for name in MODEL_FILES[task]:
        try:
            if os.path.samefile(resolve_model(task, name), path):
                return name
        except (UsageError, OSError):
            continue
    return None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
