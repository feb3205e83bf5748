"""The model contract: everything inference needs travels in the ONNX metadata.

Values are strings; structured ones are JSON-encoded. The trainer writes them with
`encode_metadata` and inference reads them back with `ModelContract.from_metadata`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from batch_classifier.inference.errors import ModelContractError

TASKS = ("cities", "images")
COMMON_KEYS = (
    "task",
    "labels",
    "input_contract",
    "output",
    "data_fingerprint",
    "metrics",
    "trainer_version",
    "model_name",
)
TASK_KEYS = {"cities": ("label_codes",), "images": ("threshold",)}
JSON_KEYS = ("labels", "label_codes", "input_contract", "metrics")


def required_keys(task: str) -> tuple[str, ...]:
    """The metadata keys a model of `task` must carry."""
    return COMMON_KEYS + TASK_KEYS[task]


def encode_metadata(values: dict[str, Any]) -> dict[str, str]:
    """Turn contract values into ONNX metadata strings (JSON for structured ones)."""
    encoded = {}
    for key, value in values.items():
        encoded[key] = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return encoded


@dataclass(frozen=True)
class ModelContract:
    """What a model file promises about its inputs, outputs and provenance."""

    task: str
    labels: list[str]
    input_contract: dict[str, Any]
    output: str
    model_name: str
    trainer_version: str
    data_fingerprint: str
    metrics: dict[str, Any]
    label_codes: list[str] = field(default_factory=list)
    threshold: float = 0.5
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_metadata(cls, metadata: dict[str, str], source: str) -> ModelContract:
        """Validate and decode ONNX metadata; raise ModelContractError naming `source`."""
        task = metadata.get("task")
        if task not in TASKS:
            raise ModelContractError(
                f"{source}: not a model of this tool (metadata 'task' is {task!r}, "
                f"expected one of {', '.join(TASKS)})"
            )
        missing = [key for key in required_keys(task) if key not in metadata]
        if missing:
            raise ModelContractError(
                f"{source}: model metadata lacks required key(s): {', '.join(missing)}"
            )
        decoded: dict[str, Any] = {}
        for key in required_keys(task):
            raw = metadata[key]
            if key in JSON_KEYS:
                try:
                    decoded[key] = json.loads(raw)
                except json.JSONDecodeError as exc:
                    raise ModelContractError(
                        f"{source}: model metadata '{key}' is not valid JSON ({exc})"
                    ) from None
            else:
                decoded[key] = raw
        if "threshold" in decoded:
            try:
                decoded["threshold"] = float(decoded["threshold"])
            except ValueError:
                raise ModelContractError(
                    f"{source}: model metadata 'threshold' is not a number"
                ) from None
        labels = decoded["labels"]
        if not isinstance(labels, list) or not labels:
            raise ModelContractError(f"{source}: model metadata 'labels' must be a list")
        codes = decoded.get("label_codes", [])
        if task == "cities" and len(codes) != len(labels):
            raise ModelContractError(
                f"{source}: model metadata has {len(labels)} labels but {len(codes)} codes"
            )
        known = set(required_keys(task))
        extra = {key: value for key, value in metadata.items() if key not in known}
        return cls(**decoded, extra=extra)

    def row_shapes(self) -> tuple[tuple[object, ...], int]:
        """(shape of one input row, values per output row) the graph must have: cities
        take (lat, lon) and give one probability per label; images take height x width
        x 3 and give P(fake)."""
        if self.task == "cities":
            return (2,), len(self.labels)
        size = self.input_contract
        return (size.get("height"), size.get("width"), 3), 1
