"""Open an ONNX model with the right execution provider and read its contract."""

from __future__ import annotations

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


def load_model(path: str | os.PathLike, device: str = "auto", task: str | None = None,
               threads: int = 0, spinning: bool = True) -> LoadedModel:
    """Open `path`, validate its contract (and its task, if given) and pick providers.

    `threads`: ONNX Runtime intra-op threads (0: one per core); `spinning=False` lets
    idle worker threads sleep at once instead of busy-waiting for the next call.
    """
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: model file not found")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(
            str(path), sess_options=options, providers=choose_providers(device)
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
    return LoadedModel(path=path, session=session, contract=contract)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
