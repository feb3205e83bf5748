"""What a report says about the run and the model: the run summary (or what the output
and its run record tell), and the model's card in short."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from batch_classifier.inference.contract import ModelContract
from batch_classifier.inference.jobs.runrecord import record_path
from batch_classifier.inference.report.outputs import OutputRows
from batch_classifier.inference.report.page import note, section, table

TEST_FIGURES = ("test_acc", "test_auc", "test_macro_acc", "test_ece", "test_coastal_acc",
                "test_open_sea_no_country")


def read_run_record(output: Path) -> dict[str, Any]:
    """The output's run record (model file and options; see jobs/runrecord.py), or {}."""
    try:
        record = json.loads(record_path(output).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def run_section(output: OutputRows, rows: int, unit: str, summary: dict[str, Any] | None,
                record: dict[str, Any]) -> str:
    """When, how many, how long: from the run's summary when the report is made by the
    run, else from the output's files."""
    newest = max(file.stat().st_mtime for file in output.files)
    facts: list[tuple[str, Any]] = [
        ("output", str(output.path)),
        ("files read", len(output.files)),
        (f"{unit} in the output", rows),
        ("written", time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(newest))),
    ]
    if output.path.is_dir():
        facts.append(("all parts written (_SUCCESS)",
                      "yes" if (output.path / "_SUCCESS").exists() else "no: the run is "
                      "not finished, or was interrupted"))
    if output.malformed:
        facts.append(("records not read (wrong field count)", output.malformed))
    if record.get("command"):
        facts.append(("command", record["command"]))
    facts += [(f"option {name}", json.dumps(value)) for name, value
              in sorted(record.get("options", {}).items())]
    if summary:
        facts += [("this run: seen", summary.get("seen")),
                  ("this run: classified", summary.get("classified")),
                  ("this run: failed", summary.get("failed")),
                  ("this run: skipped (already done)", summary.get("skipped_already_done")),
                  ("this run: seconds", summary.get("seconds")),
                  (f"this run: {unit}/s", summary.get(f"{unit}_per_second"))]
        if summary.get("interrupted"):
            facts.append(("interrupted by", summary["interrupted"]))
    else:
        facts.append(("timing", "not known (the report was made from the output alone; "
                                "--summary-json keeps a run's timing)"))
    return section("The run", table(["", ""], facts))


def model_section(contract: ModelContract | None, model_path: Path | None) -> str:
    """The model's card in short: name, data, threshold, test figures (and per source,
    from the card JSON beside the model file, when it is there)."""
    if contract is None:
        return section("The model", note("Not known: the output has no run record naming "
                                         "it; give --model to describe it."))
    metrics = contract.metrics
    card = _card(model_path)
    facts: list[tuple[str, Any]] = [("name", contract.model_name),
                                    ("file", str(model_path) if model_path else ""),
                                    ("trainer version", contract.trainer_version),
                                    ("training data fingerprint", contract.data_fingerprint)]
    trained_on = card.get("data", {}).get("trained_on") or contract.extra.get("trained_on")
    if trained_on:
        facts.append(("trained on", trained_on if isinstance(trained_on, str)
                      else ", ".join(map(str, trained_on))))
    if contract.task == "images":
        facts.append(("threshold", contract.threshold))
        if metrics.get("threshold_tuned_on"):
            facts.append(("threshold tuned on", metrics["threshold_tuned_on"]))
    else:
        facts.append(("countries", len(contract.labels)))
    facts += [(name.replace("_", " "), metrics[name]) for name in TEST_FIGURES
              if isinstance(metrics.get(name), int | float)]
    parts = [table(["", ""], facts)]
    sources = card.get("metrics", {}).get("test_sources")
    if isinstance(sources, dict) and sources:
        parts.append(table(["test source", "images", "accuracy", "AUC vs other class"],
                           [[name, value.get("n"), value.get("acc"),
                             value.get("auc_vs_other_class")]
                            for name, value in sorted(sources.items())
                            if isinstance(value, dict)]))
    return section("The model", *parts)


def _card(model_path: Path | None) -> dict[str, Any]:
    """The model card (<model>.json beside the .onnx), or {}."""
    if model_path is None:
        return {}
    try:
        card = json.loads(model_path.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return card if isinstance(card, dict) else {}
