"""train-cities: train, evaluate and export the coordinates -> country model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from batch_classifier.inference.cli_common import stack_options
from batch_classifier.trainer.card import prepare_run_folder
from batch_classifier.trainer.cities.annotate import area, lookup
from batch_classifier.trainer.cities.data import (
    CitiesData,
    add_training_points,
    load_cities_data,
)
from batch_classifier.trainer.cities.geonames import is_geonames_source, load_geonames
from batch_classifier.trainer.cities.globe_metrics import GlobeReference
from batch_classifier.trainer.cities.land_distance import LandDistance, distance_codes
from batch_classifier.trainer.cities.land_points import add_land_points
from batch_classifier.trainer.cities.landmask import LandRaster, load_land_raster
from batch_classifier.trainer.cities.train import CitiesConfig
from batch_classifier.trainer.commands import TrainerGroup
from batch_classifier.trainer.configs import config_from


def data_options(func: Any) -> Any:
    """--data and --country-col."""
    func = click.option("--country-col", metavar="NAME",
                        help="Country column of a generic CSV (names or ISO codes).")(func)
    return click.option(
        "--data", "data_source", required=True, metavar="PATH",
        help="A folder in the cities-eu layout (train/validation/test/labels.csv) "
             "or one CSV with lat, lon and country columns (split 80/10/10 by hash).")(func)


def training_options(func: Any) -> Any:
    """Optimisation and input-feature options (shared by fit and study)."""
    defaults = CitiesConfig()
    options = [
        click.option("--fourier/--no-fourier", default=defaults.fourier, show_default=True,
                     help="Sphere + sine/cosine Fourier input features (else raw lat/lon)."),
        click.option("--n-frequencies", type=click.IntRange(1), default=defaults.n_frequencies,
                     show_default=True, help="Number of Fourier frequencies."),
        click.option("--max-frequency", type=click.FloatRange(1.0),
                     default=defaults.max_frequency, show_default=True,
                     help="Highest Fourier frequency, in cycles per radian of arc."),
        click.option("--float64-features/--float32-features",
                     default=defaults.float64_features, show_default=True,
                     help="Precision of the Fourier angles in training and in the graph."),
        click.option("--epochs", type=click.IntRange(1), default=defaults.epochs,
                     show_default=True),
        click.option("--batch-size", type=click.IntRange(2), default=defaults.batch_size,
                     show_default=True),
        click.option("--lr", type=float, default=defaults.lr, show_default=True,
                     help="Peak learning rate of the one-cycle schedule (AdamW)."),
        click.option("--weight-decay", type=float, default=defaults.weight_decay,
                     show_default=True),
        click.option("--label-smoothing", type=click.FloatRange(0, 0.5),
                     default=defaults.label_smoothing, show_default=True),
        click.option("--seed", type=int, default=defaults.seed, show_default=True),
    ]
    return stack_options(options, func)


@click.group(cls=TrainerGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Train the coordinates -> country MLP and export it to ONNX."""


@main.command()
@data_options
@click.option("--depth", type=click.IntRange(1), default=CitiesConfig.depth, show_default=True,
              help="Number of hidden layers.")
@click.option("--width", type=click.IntRange(1), default=CitiesConfig.width, show_default=True,
              help="Units per hidden layer.")
@click.option("--batch-norm/--no-batch-norm", default=True, show_default=True)
@click.option("--residual/--no-residual", default=True, show_default=True)
@training_options
@click.option("--out", type=click.Path(path_type=Path), metavar="DIR",
              help="Run folder (default runs/cities-<timestamp>).")
@click.option("--name", default="cities", show_default=True,
              help="Model name: files are <name>.onnx, <name>.json, <name>.*.png.")
@click.option("--overwrite", is_flag=True, help="Replace an existing <name>.onnx in --out.")
@click.option("--add-train", "extra_sources", multiple=True, metavar="PATH",
              help="Also train on this data source's training split (labels matched by "
                   "ISO code); validation and test stay --data's.")
@click.option("--land-points", type=click.IntRange(0), default=CitiesConfig.land_points,
              show_default=True,
              help="Add this many training points spread uniformly over land (the "
                   "global-land-mask raster): south of 60S labelled Antarctica, elsewhere "
                   "by their nearest training places' countries.")
@click.option("--land-label-km", type=click.FloatRange(min=0.1),
              default=CitiesConfig.land_label_km, show_default=True,
              help="A land point's candidate label weighs exp(-km farther than the "
                   "nearest place / this).")
@click.option("--land-min-km", type=click.FloatRange(0), default=CitiesConfig.land_min_km,
              show_default=True,
              help="Leave out land points this close to a training place (north of 60S).")
@click.option("--sea-grid", type=click.FloatRange(0), default=CitiesConfig.sea_grid,
              show_default=True, metavar="DEGREES",
              help="Put a grid of distances to land (this many degrees apart) in the graph, "
                   "so classify-cities can tell open sea; 0: none.")
@click.option("--int8/--no-int8", default=CitiesConfig.int8, show_default=True,
              help="Quantise the MLP's weights to int8 after export (checked against the "
                   "float model's labels on validation).")
@click.option("-q", "--quiet", is_flag=True, help="No per-epoch log.")
def fit(data_source: str, country_col: str | None, out: Path | None, name: str,
        overwrite: bool, extra_sources: tuple[str, ...], quiet: bool, **hyper: Any) -> None:
    """Train one model, select its epoch on validation, export ONNX + card + plots."""
    from batch_classifier.trainer.cities.export import save_run
    from batch_classifier.trainer.cities.train import train_cities

    data = load_cities_data(data_source, country_col)
    for extra in extra_sources:
        data = add_training_points(data, load_cities_data(extra))
    folder = prepare_run_folder(out, name, "cities", overwrite)
    config = config_from(CitiesConfig, hyper)
    data, globe, land_distance = with_land_and_sea(data, config)
    click.echo(f"data: {data.source} ({len(data.train)}/{len(data.val)}/{len(data.test)} "
               f"train/val/test, {len(data.names)} classes, {data.fingerprint})", err=True)
    result = train_cities(data, config, land_distance=land_distance,
                          log=(lambda _: None) if quiet else lambda m: click.echo(m, err=True))
    onnx_path = save_run(result, data, folder, name, globe)
    m = result.metrics
    click.echo(f"best epoch {result.best_epoch}: val {m['val_acc']:.4f}  test {m['test_acc']:.4f}"
               f"  -> {onnx_path} ({onnx_path.stat().st_size / 1024:.0f} KiB)")


main.add_command(lookup)
main.add_command(area)


def with_land_and_sea(data: CitiesData, config: CitiesConfig,
                      raster: LandRaster | None = None,
                      ) -> tuple[CitiesData, GlobeReference | None, LandDistance | None]:
    """Land points, the globe reference for the card's figures and the graph's land
    distance grid, as `config` asks (nothing when it asks for neither)."""
    if not (config.land_points or config.sea_grid):
        return data, None, None
    raster = raster or load_land_raster()
    places = data.train
    reference = load_geonames(data.source) if is_geonames_source(data.source) else data
    if config.land_points:
        data = add_land_points(data, raster, config.land_points, config.land_label_km,
                               config.seed, config.land_min_km)
    globe = GlobeReference.build(raster, reference, places)
    land_distance = None
    if config.sea_grid:
        codes = distance_codes(raster, places.latlon, config.sea_grid)
        land_distance = LandDistance(codes, config.sea_grid)
    return data, globe, land_distance


@main.command()
@data_options
@training_options
@click.option("--output", "output_path", type=click.Path(path_type=Path), metavar="FILE",
              help="Also write the markdown table here.")
def study(data_source: str, country_col: str | None, output_path: Path | None,
          **hyper: Any) -> None:
    """The original study's grid: depth 1/2/6/10 at width 16 and width 8/16/32/64 at
    depth 6, each with and without residual connections; prints a markdown table."""
    from batch_classifier.trainer.cities.study import run_study

    data = load_cities_data(data_source, country_col)
    table = run_study(data, config_from(CitiesConfig, hyper), log=lambda m: click.echo(m, err=True))
    click.echo(table)
    if output_path:
        output_path.write_text(table + "\n")


@main.command()
@data_options
@training_options
@click.option("--depth", "depths", type=click.IntRange(2), multiple=True,
              default=(6, 20, 50), show_default=True,
              help="Number of hidden layers (repeat for several).")
@click.option("--width", type=click.IntRange(1), default=16, show_default=True,
              help="Units per hidden layer.")
@click.option("--threads", type=click.IntRange(1), default=1, show_default=True,
              help="PyTorch threads (width-16 layers run fastest on one).")
@click.option("--output", "output_path", type=click.Path(path_type=Path), metavar="FILE",
              help="Also write the markdown table here.")
@click.option("--figure", "figure_path", type=click.Path(path_type=Path), metavar="FILE",
              help="Write the figure (PNG) here.")
def gradients(data_source: str, country_col: str | None, depths: tuple[int, ...], width: int,
              threads: int, output_path: Path | None, figure_path: Path | None,
              **hyper: Any) -> None:
    """Per-layer weight-gradient norms, at initialisation and through training, of every
    depth with and without residual connections and batch norm; prints a markdown table
    (accuracy, layer-1 / last-hidden-layer gradient ratio)."""
    import torch

    from batch_classifier.trainer.cities.gradient_study import (
        gradient_table,
        run_gradient_study,
    )

    torch.set_num_threads(threads)
    data = load_cities_data(data_source, country_col)
    config = config_from(CitiesConfig, {**hyper, "width": width})
    runs = run_gradient_study(data, config, depths, log=lambda m: click.echo(m, err=True))
    table = gradient_table(runs)
    click.echo(table)
    if output_path:
        output_path.write_text(table + "\n")
    if figure_path:
        from batch_classifier.trainer.cities.gradient_figure import plot_gradients

        plot_gradients(runs, figure_path)


@main.command()
@click.option("--model", "model_path", required=True, type=click.Path(exists=True),
              help="An exported cities .onnx model.")
@data_options
@click.option("--split", type=click.Choice(["train", "val", "test"]), default="test",
              show_default=True)
@click.option("--alias", "aliases", multiple=True, metavar="FROM=TO",
              help="Count a predicted code as another (e.g. XK=RS where Kosovo is Serbia).")
@click.option("--antimeridian-km", type=float, multiple=True, default=(20.0, 100.0, 300.0),
              show_default=True,
              help="Also report accuracy for points this close to the ±180° meridian.")
@click.option("--globe", is_flag=True,
              help="Also: accuracy as classify-cities shows it (open sea = no country) and "
                   "near coasts; open-sea points > 200 km from every GeoNames place (north "
                   "of the ice shelves, 78.75S) without a country; Antarctic land as AQ; "
                   "accuracy, ECE and confidence by distance to data on uniform land "
                   "points (truth: the nearest GeoNames place's country). Points are "
                   "sampled with the split's own seed.")
@click.option("--globe-points", type=click.IntRange(100), default=20000, show_default=True,
              help="Sea and land points sampled for --globe (each).")
@click.option("--lookup/--no-lookup", default=True, show_default=True,
              help="Answer points in the model's lookup cells from its table, as "
                   "classify-cities does (--no-lookup: the network for every point).")
def evaluate(model_path: str, data_source: str, country_col: str | None, split: str,
             aliases: tuple[str, ...], antimeridian_km: tuple[float, ...], globe: bool,
             globe_points: int, lookup: bool) -> None:
    """Accuracy (by ISO code) of an exported model on a split of any data source."""
    from batch_classifier.trainer.cities.evaluate import evaluate_model

    data = load_cities_data(data_source, country_col)
    try:
        mapping = dict(alias.split("=", 1) for alias in aliases)
    except ValueError:
        raise click.UsageError("--alias takes FROM=TO") from None
    result = evaluate_model(model_path, getattr(data, split), data.codes, mapping,
                            antimeridian_km, lookup)
    click.echo(f"{model_path} on {data.source} {split}: accuracy {result.accuracy:.4f} "
               f"({result.n} points)")
    for km, (n, accuracy) in result.antimeridian.items():
        click.echo(f"  within {km:g} km of the antimeridian: accuracy {accuracy:.4f} "
                   f"({n} points)")
    if result.codes_unknown_to_model:
        click.echo(f"codes the model cannot predict: {', '.join(result.codes_unknown_to_model)}")
    if globe:
        from batch_classifier.inference.cities.classifier import CountryClassifier
        from batch_classifier.trainer.cities.globe_metrics import globe_metrics

        reference = load_geonames()
        reference_globe = GlobeReference.build(load_land_raster(), reference, reference.train)
        classifier = CountryClassifier(model_path, device="cpu", lookup=lookup)
        figures = globe_metrics(classifier.model, getattr(data, split), data.codes,
                                reference_globe, split, globe_points, mapping, classifier.lookup)
        for key, value in figures.items():
            click.echo(f"  {key}: {value:.4f}" if isinstance(value, float) else
                       f"  {key}: {value}")
