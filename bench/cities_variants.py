"""Faster variants of a trained cities model, and their GeoNames validation accuracy.

    git show 86c7ddc:exported/cities-world.onnx > /tmp/old/cities-world.onnx
    git show 86c7ddc:exported/cities-world.pt > /tmp/old/cities-world.pt
    python bench/cities_variants.py /tmp/old/cities-world.pt --out /tmp/variants --tag old
    python bench/bench_world_models.py /tmp/variants/old-*.onnx

From the PyTorch weights beside an export (<name>.pt, its .onnx gives the metadata) it
writes: the graph with float64 and with float32 Fourier features, each as is and with
int8 MLP weights (ONNX Runtime dynamic quantisation, one scale per tensor or per output
channel; the Fourier projection stays float). It prints each variant's accuracy on the
GeoNames validation split (the selection split; never test) and how many validation
labels differ from the model as exported. Needs the train extra.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import torch

from batch_classifier.inference.cities.predict import run_model
from batch_classifier.inference.session import load_model
from batch_classifier.trainer.cities.export import PARITY_ATOL, load_checkpoint
from batch_classifier.trainer.cities.geonames import load_geonames
from batch_classifier.trainer.cities.quantize import KEEP_FLOAT
from batch_classifier.trainer.export import export_onnx

QUANTISATIONS = {"int8": {}, "int8pc": {"per_channel": True}}


def metadata_of(onnx_path: Path) -> dict:
    """The contract metadata of an exported model, decoded."""
    entries = {p.key: p.value for p in onnx.load(str(onnx_path)).metadata_props
               if p.key != "onnx.infer"}
    return {k: json.loads(v) if v[:1] in "[{" else v for k, v in entries.items()}


def write_variants(checkpoint: Path, out: Path, tag: str, example: torch.Tensor) -> list[Path]:
    """Export the float64- and float32-feature graphs and their int8 versions."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = load_checkpoint(checkpoint)
    metadata = metadata_of(checkpoint.with_suffix(".onnx"))
    paths = []
    for precision in ("float64", "float32"):
        model.mlp.features.dtype = getattr(torch, precision)
        float_path = out / f"{tag}-{precision}.onnx"
        export_onnx(model, example, float_path, metadata, atol=PARITY_ATOL,
                    output_names=model.output_names)
        paths.append(float_path)
        keep = [n.name for n in onnx.load(str(float_path)).graph.node if KEEP_FLOAT in n.name]
        for name, options in QUANTISATIONS.items():
            path = out / f"{tag}-{precision}-{name}.onnx"
            quantize_dynamic(str(float_path), str(path), weight_type=QuantType.QInt8,
                             nodes_to_exclude=keep, **options)
            paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path, help="<name>.pt beside <name>.onnx")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--tag", default="model")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    val = load_geonames().val
    example = torch.from_numpy(val.latlon[:2048])
    exported = load_model(args.checkpoint.with_suffix(".onnx"), device="cpu", task="cities")
    reference = run_model(exported, val.latlon)[0]
    # the GeoNames classes come first in every world model, so labels index both
    print("| variant | size | GeoNames val accuracy | val labels differing from the export "
          "| max probability change |\n|---|---:|---:|---:|---:|")
    for path in [args.checkpoint.with_suffix(".onnx"),
                 *write_variants(args.checkpoint, args.out, args.tag, example)]:
        probabilities = run_model(load_model(path, device="cpu", task="cities"), val.latlon)[0]
        predicted = probabilities.argmax(1)
        print(f"| {path.name} | {path.stat().st_size / 1e6:.1f} MB | "
              f"{np.mean(predicted == val.labels):.5f} | "
              f"{int((predicted != reference.argmax(1)).sum())} | "
              f"{np.abs(probabilities - reference).max():.1e} |")


if __name__ == "__main__":
    sys.exit(main())
