"""train-cities lookup / area: add what inference may use besides the network to an
exported model's metadata (the graph and its weights stay as they are)."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from batch_classifier.trainer.commands import TrainerCommand
from batch_classifier.trainer.errors import TrainerUsageError

AGREEMENT_SEED = 11  # points for measuring a lookup against its network


def _model_options(func):
    func = click.option("--overwrite", is_flag=True,
                        help="Replace --out if it exists (it may be --model itself).")(func)
    func = click.option("--out", required=True, type=click.Path(path_type=Path),
                        help="Where to write the model (its card, if any, beside it).")(func)
    return click.option("--model", "model_path", required=True,
                        type=click.Path(exists=True, dir_okay=False, path_type=Path),
                        help="An exported cities .onnx model.")(func)


def _check_out(out: Path, overwrite: bool) -> None:
    if out.exists() and not overwrite:
        raise TrainerUsageError(f"{out} exists; pass --overwrite to replace it")


@click.command(cls=TrainerCommand)
@_model_options
@click.option("--step", type=click.FloatRange(0.01, 10.0), default=0.2, show_default=True,
              metavar="DEGREES", help="Cell size; the model's --sea-grid (or a divisor of "
                                      "it) makes the open-sea check exact.")
@click.option("--split", type=click.IntRange(1, 16), default=4, show_default=True,
              help="Cells that are not one country are split into SPLIT x SPLIT sub-cells.")
@click.option("--check-points", type=click.IntRange(2, 33), default=4, show_default=True,
              help="Each cell is checked on N x N points, edges included.")
@click.option("--sub-check-points", type=click.IntRange(2, 33), default=3, show_default=True,
              help="Each sub-cell is checked on N x N points, edges included.")
@click.option("--min-confidence", type=click.FloatRange(0.0, 1.0), default=0.9,
              show_default=True, help="Every check point of a looked-up cell has at least "
                                      "this top probability.")
@click.option("--agreement-points", type=click.IntRange(1), default=200_000,
              show_default=True, help="Points uniform over the sphere on which the lookup "
                                      "is compared with the network.")
def lookup(model_path: Path, out: Path, overwrite: bool, step: float, split: int,
           check_points: int, sub_check_points: int, min_confidence: float,
           agreement_points: int) -> None:
    """Distil a cell lookup from the model (cells where it gives one country everywhere,
    checked densely) and write the model with it: classify-cities then runs the network
    only for the points elsewhere."""
    from batch_classifier.inference.cities.lookup import METADATA_KEY, encode_lookup
    from batch_classifier.inference.session import load_model
    from batch_classifier.trainer.card import amend_card
    from batch_classifier.trainer.cities.distill import distill_lookup, measure_agreement
    from batch_classifier.trainer.cities.landmask import sample_sphere
    from batch_classifier.trainer.export import with_metadata

    _check_out(out, overwrite)
    model = load_model(model_path, device="cpu", task="cities")
    table = distill_lookup(model, step, split, check_points, sub_check_points, min_confidence,
                           log=lambda message: click.echo(message, err=True))
    points = sample_sphere(agreement_points, np.random.default_rng(AGREEMENT_SEED))
    about = {"step": step, "split": split, "check_points": check_points,
             "sub_check_points": sub_check_points, "min_confidence": min_confidence,
             "cells_looked_up": round(table.coverage(), 6),
             "confidence": "mean of the network's top probability over the cell's check "
                           "points",
             "agreement_uniform_sphere": measure_agreement(model, table, points)}
    with_metadata(model_path, {METADATA_KEY: encode_lookup(table, about)}, out)
    amend_card(model_path, out, "lookup", about)
    agreement = about["agreement_uniform_sphere"]
    click.echo(f"{out}: {about['cells_looked_up']:.1%} of cells looked up; on "
               f"{agreement_points:,} points over the sphere {agreement['looked_up']:.1%} "
               f"looked up, country differs from the network on "
               f"{agreement['country_differs']:.4%} of those "
               f"({out.stat().st_size / 1e6:.1f} MB)")


@click.command(cls=TrainerCommand)
@_model_options
@click.option("--data", "data_source", required=True,
              help="The data the model was trained on (its fingerprint must match).")
@click.option("--country-col", metavar="NAME", help="Country column of a CSV data source.")
@click.option("--km", type=click.FloatRange(min=1.0), default=100.0, show_default=True,
              help="Points farther than about this from every training place are outside.")
def area(model_path: Path, out: Path, overwrite: bool, data_source: str,
         country_col: str | None, km: float) -> None:
    """Write the model with its area (the cells within about KM of its training places):
    classify-cities gives a point outside it no country (error 'outside the area of
    model ...'), where the network would name one of its countries however far away."""
    from batch_classifier.inference.cities.area import METADATA_KEY, encode_area
    from batch_classifier.inference.session import load_model
    from batch_classifier.trainer.card import amend_card
    from batch_classifier.trainer.cities.area import area_of
    from batch_classifier.trainer.cities.data import load_cities_data
    from batch_classifier.trainer.export import with_metadata

    _check_out(out, overwrite)
    model = load_model(model_path, device="cpu", task="cities")
    data = load_cities_data(data_source, country_col)
    if data.fingerprint != model.contract.data_fingerprint:
        raise TrainerUsageError(f"{data_source} is not the data {model_path} was trained on "
                                f"({data.fingerprint} vs {model.contract.data_fingerprint})")
    found = area_of(data.train.latlon, km)
    about = f"cells within ~{km:g} km of the {len(data.train):,} training places of {data.source}"
    with_metadata(model_path, {METADATA_KEY: encode_area(found, about)}, out)
    amend_card(model_path, out, "area", {"km": km, "step": found.step,
                                         "cells_inside": int(found.inside.sum())})
    click.echo(f"{out}: area of {int(found.inside.sum()):,} cells of {found.step:g} degrees")
