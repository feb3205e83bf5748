"""Open an ONNX model with the right execution provider and read its contract."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from batch_classifier.inference.contract import ModelContract
from batch_classifier.inference.errors import ModelContractError, UsageError

DEVICES = ("auto", "cpu", "cuda")


def choose_providers(device: str) -> list[str]:
    """ONNX Runtime providers for `device` (auto: CUDA when offered, else CPU)."""
    available = ort.get_available_providers()
    has_cuda = "CUDAExecutionProvider" in available
    if device == "cuda":
        if not has_cuda:
            raise UsageError(
                "--device cuda: this onnxruntime has no CUDA provider "
                "(install onnxruntime-gpu, or use --device cpu)"
            )
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if device == "auto" and has_cuda:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


@dataclass
class LoadedModel:
    """An ONNX Runtime session together with the contract its metadata carries."""

    path: Path
    session: ort.InferenceSession
    contract: ModelContract

    @property
    def provider(self) -> str:
        """The provider actually serving the model (first of the session's list)."""
        return self.session.get_providers()[0]

    def run(self, batch: np.ndarray) -> np.ndarray:
        """Run one batch through the model's single input and return its first output."""
        return self.run_outputs(batch)[0]

    def run_outputs(self, batch: np.ndarray) -> list[np.ndarray]:
        """Run one batch through the model's single input and return every output."""
        name = self.session.get_inputs()[0].name
        return self.session.run(None, {name: batch})

    def output_index(self, name: str) -> int:
        """Position of the output called `name` among the session's outputs."""
        names = [output.name for output in self.session.get_outputs()]
        if name not in names:
            raise ModelContractError(f"{self.path}: the model has no output {name!r}")
        return names.index(name)


def check_device(device: str) -> None:
    """Refuse a device that is not one of DEVICES."""
    if not isinstance(device, str) or device not in DEVICES:
        raise UsageError(f"device {device!r}: choose from {', '.join(DEVICES)}")


def read_model_file(path: str | os.PathLike) -> bytes:
    """The bytes of the model file at `path`, or a UsageError saying why not."""
    try:
        return Path(path).read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise UsageError(f"{path}: model file not found") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the model ({exc.strerror})") from None


def load_model(path: str | os.PathLike, device: str = "auto", task: str | None = None,
               threads: int = 0, spinning: bool = False,
               data: bytes | None = None) -> LoadedModel:
    """Open `path`, validate its contract (and its task, if given) and pick providers.

    `threads`: ONNX Runtime intra-op threads (0: one per core); `spinning=False` lets
    idle worker threads sleep at once instead of busy-waiting for the next call. With
    `data`, the model is those bytes and `path` only names it in messages.
    """
    path = Path(path)
    check_device(device)
    if data is None and not path.is_file():
        raise UsageError(f"{path}: model file not found")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    # Threads sleep between ops instead of spinning unless asked: scheduled jobs share
    # their cores with the CSV reader, decoding threads and other jobs
    # (bench/bench_memory.py, bench/bench_world_models.py --no-spinning).
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(
            str(path) if data is None else data, sess_options=options,
            providers=choose_providers(device)
        )
    except UsageError:
        raise
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise UsageError(f"{path}: not a readable ONNX model ({_first_line(exc)})") from None
    contract = ModelContract.from_metadata(
        session.get_modelmeta().custom_metadata_map, source=str(path)
    )
    if task is not None and contract.task != task:
        raise ModelContractError(
            f"{path}: this is a model for '{contract.task}', not for '{task}'"
        )
    _check_graph(session, contract, path)
    return LoadedModel(path=path, session=session, contract=contract)


def _check_graph(session: ort.InferenceSession, contract: ModelContract, path: Path) -> None:
    """Refuse a graph whose input or output shape is not what its metadata promises (a
    label list longer or shorter than the output would fail later, row by row)."""
    row_in, width_out = contract.row_shapes()
    graph_in = session.get_inputs()[0].shape[1:]
    if len(graph_in) != len(row_in) or any(isinstance(have, int) and have != want
                                           for have, want in zip(graph_in, row_in, strict=True)):
        raise ModelContractError(f"{path}: the graph takes rows of shape {graph_in}, its "
                                 f"metadata promises {list(row_in)}")
    graph_out = session.get_outputs()[0].shape[1:]
    if all(isinstance(dim, int) for dim in graph_out):
        width = math.prod(graph_out)
    elif all(isinstance(dim, int) for dim in row_in):
        width = _probed_width(session, row_in, path)
    else:
        return  # the input contract itself is incomplete: its task's reader says so
    if width != width_out:
        raise ModelContractError(f"{path}: the graph gives {width} values per row, its "
                                 f"metadata needs {width_out} ({len(contract.labels)} labels, "
                                 f"task {contract.task})")


def _probed_width(session: ort.InferenceSession, row: tuple[int, ...], path: Path) -> int:
    """Values per output row, found by running one zero row (the graph's output shape
    is not fixed in the file)."""
    graph_input = session.get_inputs()[0]
    dtype = _DTYPES.get(graph_input.type)
    if dtype is None:
        raise ModelContractError(f"{path}: unexpected input type {graph_input.type}")
    try:
        output = session.run(None, {graph_input.name: np.zeros((1, *row), dtype)})[0]
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise ModelContractError(f"{path}: the graph does not run on one row of its input "
                                 f"contract ({_first_line(exc)})") from None
    return math.prod(output.shape[1:])


_DTYPES = {"tensor(float)": np.float32, "tensor(uint8)": np.uint8,
           "tensor(double)": np.float64}


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
