"""Per-source tables from model cards, as markdown (for docs and for reading a run)."""

from __future__ import annotations

import json
from pathlib import Path


def load_card(path: Path) -> dict:
    """A model card: the JSON file, or the .onnx beside it."""
    return json.loads(Path(path).with_suffix(".json").read_text())


def source_table(cards: dict[str, dict], split: str) -> str:
    """One row per card (labelled by the dict's keys), one column per source: accuracy at
    the card's threshold and ROC AUC against the other class; held-out sources marked."""
    sources = sorted({source for card in cards.values()
                      for source in card["metrics"].get(f"{split}_sources", {})})
    header = ["run", "threshold", *sources, f"{split} acc", f"{split} AUC"]
    lines = ["| " + " | ".join(header) + " |",
             "|:---|" + "---:|" * (len(header) - 1)]
    for label, card in cards.items():
        metrics = card["metrics"]
        table = metrics.get(f"{split}_sources", {})
        held = card.get("data", {}).get("held_out", [])
        cells = []
        for source in sources:
            row = table.get(source)
            mark = " (held out)" if any(source == h or source.startswith(h + "/")
                                        for h in held) else ""
            cells.append("-" if row is None else
                         f"{row['acc']:.1%} / {row['auc_vs_other_class']:.3f}{mark}")
        lines.append(f"| {label} | {metrics['threshold']:.3f} | " + " | ".join(cells)
                     + f" | {metrics[f'{split}_acc']:.1%} | {metrics[f'{split}_auc']:.3f} |")
    return "\n".join(lines)


def quantile_table(card: dict, split: str) -> str:
    """P(fake) quantiles (5, 25, 50, 75, 95%) per source of one card."""
    lines = ["| source | n | accuracy | AUC vs other class | P(fake) 5% | 25% | 50% | 75% "
             "| 95% |", "|:---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for source, row in card["metrics"].get(f"{split}_sources", {}).items():
        quantiles = " | ".join(f"{q:.3f}" for q in row["p_fake_quantiles"])
        lines.append(f"| {source} | {row['n']} | {row['acc']:.1%} | "
                     f"{row['auc_vs_other_class']:.3f} | {quantiles} |")
    return "\n".join(lines)


def held_out_table(cards: dict[str, dict], split: str) -> str:
    """Leave-one-generator-out: one row per method, one column per held-out source, each
    cell the held-out fakes' ROC AUC against all reals / share caught at the threshold
    tuned without them, the mean per method, and the share of reals called real at that
    threshold (mean over the real sources, then over the method's runs). A card's method
    is its label without the held-out source's slug (`nprstrong-faces-fake` ->
    `nprstrong`); cards that held nothing out are left out."""
    cells: dict[str, dict[str, tuple[float, float]]] = {}
    reals_right: dict[str, list[float]] = {}
    for label, card in cards.items():
        held = card.get("data", {}).get("held_out", [])
        sources = card["metrics"].get(f"{split}_sources", {})
        if len(held) != 1 or held[0] not in sources:
            continue
        method = label.removesuffix("-" + held[0].replace("/", "-"))
        row = sources[held[0]]
        cells.setdefault(method, {})[held[0]] = (row["auc_vs_other_class"], row["acc"])
        reals = [r["acc"] for r in sources.values() if r["label"] == 0]
        reals_right.setdefault(method, []).extend([sum(reals) / len(reals)] if reals else [])
    held_sources = sorted({source for row in cells.values() for source in row})
    lines = ["| method | " + " | ".join(held_sources) + " | mean | reals called real |",
             "|:---|" + "---:|" * (len(held_sources) + 2)]
    for method, row in cells.items():
        shown = [f"{row[s][0]:.3f} / {row[s][1]:.1%}" if s in row else "not run"
                 for s in held_sources]
        mean = (f"{sum(v[0] for v in row.values()) / len(row):.3f} / "
                f"{sum(v[1] for v in row.values()) / len(row):.1%}"
                + ("" if len(row) == len(held_sources) else f" (of {len(row)})"))
        runs = reals_right[method]
        real = f"{sum(runs) / len(runs):.1%}" if runs else "-"
        lines.append(f"| {method} | " + " | ".join(shown) + f" | {mean} | {real} |")
    return "\n".join(lines)
