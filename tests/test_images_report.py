"""train-images report: per-source and leave-one-generator-out tables from model cards."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from batch_classifier.trainer.images.cli import main

REALS = {"a/real": {"n": 10, "label": 0, "acc": 0.9, "auc_vs_other_class": 0.95,
                    "p_fake_quantiles": [0.1, 0.2, 0.3, 0.4, 0.5]}}


def write_card(folder: Path, held_out: list[str], fakes: dict[str, tuple[float, float]],
               reals_acc: float = 0.9) -> Path:
    """A card as fit writes it, with only what the tables read."""
    sources = {name: {**row, "acc": reals_acc} for name, row in REALS.items()}
    for source, (auc, acc) in fakes.items():
        sources[source] = {"n": 20, "label": 1, "acc": acc, "auc_vs_other_class": auc,
                           "p_fake_quantiles": [0.2, 0.4, 0.6, 0.8, 0.9]}
    folder.mkdir(parents=True)
    path = folder / "deepfake.json"
    path.write_text(json.dumps({"data": {"held_out": held_out}, "metrics": {
        "threshold": 0.5, "val_acc": 0.9, "val_auc": 0.95, "val_sources": sources}}))
    return path


def test_held_out_table_has_a_row_per_method_and_a_column_per_held_out_source(tmp_path):
    cards = [
        write_card(tmp_path / "npr-b-fake", ["b/fake"],
                   {"b/fake": (0.70, 0.10), "c/fake": (0.99, 0.98)}),
        write_card(tmp_path / "npr-c-fake-x", ["c/fake/x"],
                   {"b/fake": (0.98, 0.97), "c/fake/x": (0.80, 0.30)}, reals_acc=0.7),
        write_card(tmp_path / "base-b-fake", ["b/fake"], {"b/fake": (0.60, 0.00)}),
        write_card(tmp_path / "everything", [], {"b/fake": (0.99, 0.99)}),
    ]
    result = CliRunner().invoke(main, ["report", "--held-out", *map(str, cards)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == "| method | b/fake | c/fake/x | mean | reals called real |"
    assert "| npr | 0.700 / 10.0% | 0.800 / 30.0% | 0.750 / 20.0% | 80.0% |" in lines
    assert "| base | 0.600 / 0.0% | not run | 0.600 / 0.0% (of 1) | 90.0% |" in lines
    assert not any("everything" in line for line in lines)  # nothing held out: no row


def test_source_table_marks_held_out_sources(tmp_path):
    card = write_card(tmp_path / "npr-b-fake", ["b/fake"], {"b/fake": (0.70, 0.10)})
    result = CliRunner().invoke(main, ["report", str(card)])
    assert result.exit_code == 0, result.output
    assert "10.0% / 0.700 (held out)" in result.output
    assert "| a/real | 10 | 90.0% | 0.950 |" in result.output  # the quantile table
