"""Several exported detectors as one ONNX graph that averages their logits.

Each member keeps its own preprocessing (size is shared: the members must take the same
input contract); the merged graph feeds the same uint8 batch to every member, turns each
P(fake) back into a logit, averages the logits and applies the sigmoid. The merged file
is checked against the members run one by one before it is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, compose, helper

from batch_classifier.inference.contract import ModelContract
from batch_classifier.trainer.atomic import write_atomically
from batch_classifier.trainer.errors import TrainerUsageError
from batch_classifier.trainer.export import ParityError, attach_metadata
from batch_classifier.trainer.images.data import ImageData, ImageSplit
from batch_classifier.trainer.images.metrics import best_threshold
from batch_classifier.trainer.images.train import split_metrics, trained_sources

EPSILON = 1e-6  # P(fake) is clipped to [EPSILON, 1 - EPSILON] before its logit is taken


@dataclass
class Member:
    """One exported detector: its file, graph and contract."""

    path: Path
    graph: onnx.ModelProto
    contract: ModelContract

    @classmethod
    def load(cls, path: Path) -> Member:
        graph = onnx.load(str(path))
        metadata = {entry.key: entry.value for entry in graph.metadata_props}
        contract = ModelContract.from_metadata(metadata, source=str(path))
        if contract.task != "images":
            raise TrainerUsageError(f"{path}: not an images model")
        return cls(path, graph, contract)


def merge(members: list[Member]) -> onnx.ModelProto:
    """One graph: input -> every member -> mean logit -> sigmoid -> output [N, 1]."""
    size = members[0].contract.input_contract
    for member in members[1:]:
        if member.contract.input_contract != size:
            raise TrainerUsageError(f"{member.path}: its input contract differs from "
                                    f"{members[0].path}'s; members must take the same input")
    graphs = [compose.add_prefix(m.graph, f"m{i}_").graph for i, m in enumerate(members)]
    nodes, initializers = [], []
    logits = []
    for i, graph in enumerate(graphs):
        nodes.append(helper.make_node("Identity", ["input"], [graph.input[0].name]))
        nodes += list(graph.node)
        initializers += list(graph.initializer)
        out = graph.output[0].name
        nodes += [
            helper.make_node("Clip", [out, "eps", "one_minus_eps"], [f"p{i}"]),
            helper.make_node("Sub", ["one", f"p{i}"], [f"q{i}"]),
            helper.make_node("Div", [f"p{i}", f"q{i}"], [f"odds{i}"]),
            helper.make_node("Log", [f"odds{i}"], [f"logit{i}"]),
        ]
        logits.append(f"logit{i}")
    nodes += [helper.make_node("Sum", logits, ["logit_sum"]),
              helper.make_node("Mul", ["logit_sum", "inverse_count"], ["logit_mean"]),
              helper.make_node("Sigmoid", ["logit_mean"], ["output"])]
    constants = {"eps": EPSILON, "one_minus_eps": 1 - EPSILON, "one": 1.0,
                 "inverse_count": 1.0 / len(members)}
    initializers += [helper.make_tensor(name, TensorProto.FLOAT, [], [value])
                     for name, value in constants.items()]
    first = members[0].graph.graph
    graph = helper.make_graph(nodes, "ensemble", [first.input[0]], [first.output[0]],
                              initializers)
    model = helper.make_model(graph, opset_imports=members[0].graph.opset_import)
    model.ir_version = members[0].graph.ir_version
    onnx.checker.check_model(model)
    return model


def session(model: onnx.ModelProto | Path) -> ort.InferenceSession:
    """A CPU ONNX Runtime session of a graph (in memory or a file)."""
    source = str(model) if isinstance(model, Path) else model.SerializeToString()
    return ort.InferenceSession(source, providers=["CPUExecutionProvider"])


def run(model: ort.InferenceSession, images: np.ndarray, batch: int = 8) -> np.ndarray:
    """P(fake) of uint8 NHWC `images` through a session."""
    if not len(images):
        return np.zeros(0, np.float32)
    return np.concatenate([model.run(None, {"input": images[i:i + batch]})[0].reshape(-1)
                           for i in range(0, len(images), batch)])


def check_parity(merged: ort.InferenceSession, members: list[Member], images: np.ndarray,
                 atol: float = 1e-4) -> float:
    """Max |merged graph - mean-logit of the members run alone| on `images`."""
    alone = [np.clip(run(session(m.path), images), EPSILON, 1 - EPSILON) for m in members]
    expected = 1 / (1 + np.exp(-np.mean([np.log(p / (1 - p)) for p in alone], axis=0)))
    difference = float(np.abs(run(merged, images) - expected).max())
    if not difference <= atol:
        raise ParityError(f"ensemble differs from its members by {difference:.3g}")
    return difference


def write(model: onnx.ModelProto, metadata: dict, path: Path) -> None:
    """Attach the contract metadata (refusing a broken one) and write `path` atomically."""
    attach_metadata(model, metadata, path)
    write_atomically(path, model.SerializeToString())


MEMBER_METRICS = ("best_epoch", "flip_tta", "patch_scoring", "threshold", "val_acc", "val_auc",
                  "val_macro_acc")


def member_summary(member: Member) -> dict:
    """What the card says of a member: its file, name, backbone, data, command, and how
    it scores (TTA, patch scoring) with its own validation figures."""
    card_path = member.path.with_suffix(".json")
    card = json.loads(card_path.read_text()) if card_path.is_file() else {}
    metrics = card.get("metrics", {})
    return {"file": str(member.path), "model_name": member.contract.model_name,
            "backbone": member.contract.extra.get("backbone"),
            "data_fingerprint": member.contract.data_fingerprint,
            "trained_on": json.loads(member.contract.extra.get("trained_on", "[]")),
            "command": card.get("command"), "config": card.get("config"),
            "metrics": {key: metrics[key] for key in MEMBER_METRICS if key in metrics}}


@dataclass
class EnsembleResult:
    """The merged graph, its members, metrics and test-set predictions."""

    model: onnx.ModelProto
    members: list[Member]
    metrics: dict
    test_probabilities: np.ndarray
    parity: float


def build_ensemble(paths: list[Path], data: ImageData,
                   threshold: float | None = None) -> EnsembleResult:
    """Merge the detectors at `paths`, check the graph, and measure it on `data`: the
    threshold (unless given) is tuned on the validation images of the sources not held
    out, as `train-images fit` tunes it."""
    members = [Member.load(path) for path in paths]
    size = members[0].contract.input_contract.get("height")
    if size != data.size:
        raise TrainerUsageError(f"the members take {size} px images, the data was loaded "
                                f"at {data.size} px (--size)")
    model = merge(members)
    merged = session(model)
    parity = check_parity(merged, members, data.val.images[:8])
    probabilities = {name: run(merged, getattr(data, name).images) for name in ("val", "test")}
    keep = trained_sources(data.val, data.held_out)
    val = data.val.subset(keep)
    metrics: dict = {"members": len(members)}
    metrics["threshold"] = threshold if threshold is not None else best_threshold(
        val.labels, probabilities["val"][keep], val.sources)
    metrics["threshold_tuned_on"] = ("given" if threshold is not None else "val of " +
                                     ", ".join(sorted(set(val.sources.tolist()))))
    for name in ("val", "test"):
        split: ImageSplit = getattr(data, name)
        if len(split):
            metrics.update(split_metrics(name, split, probabilities[name],
                                         metrics["threshold"]))
    return EnsembleResult(model, members, metrics, probabilities["test"], parity)
