"""train-images: train, evaluate and export the real vs AI-generated images model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from batch_classifier.inference.cli_common import stack_options
from batch_classifier.trainer.card import prepare_run_folder
from batch_classifier.trainer.commands import TrainerGroup
from batch_classifier.trainer.configs import config_from
from batch_classifier.trainer.images.model import BACKBONES, INPUTS
from batch_classifier.trainer.images.selfmade import SelfMadeConfig
from batch_classifier.trainer.images.train import REGIMES, ImagesConfig

DEFAULTS = ImagesConfig()


def data_options(func: Any) -> Any:
    """--data (repeatable) and --hold-out."""
    options = [
        click.option(
            "--data", "data_sources", required=True, multiple=True, metavar="DIR",
            help="A source: train/, val/, test/ folders each with real/ and/or fake/ "
                 "(ImageFolder layout), or one folder with real/ and/or fake/ split "
                 "80/10/10 by a hash of the file name. Repeat to train on several; "
                 "figures are reported per source (<folder name>/<class>)."),
        click.option(
            "--hold-out", multiple=True, metavar="SOURCE",
            help="Leave a source out of training, e.g. faces-sd/fake (or faces-sd for "
                 "both classes): it is still measured on val and test but never used to "
                 "select anything (leave-one-generator-out). Repeatable."),
    ]
    return stack_options(options, func)


def training_options(func: Any) -> Any:
    """Backbone, input and optimisation options (shared by fit and study)."""
    options = [
        click.option("--backbone", type=click.Choice(BACKBONES), default=DEFAULTS.backbone,
                     show_default=True),
        click.option("--weights", type=click.Path(dir_okay=False), metavar="FILE",
                     help="ResNet18 ImageNet checkpoint (default: torchvision's cache, "
                          "$TORCH_HOME/hub/checkpoints)."),
        click.option("--size", type=click.IntRange(32), default=DEFAULTS.size,
                     show_default=True,
                     help="Model input: shorter side resized to this, centre square."),
        click.option("--crop", type=click.IntRange(16), default=DEFAULTS.crop,
                     show_default=True, help="Training crop, taken at native resolution."),
        click.option("--upsample", type=click.FloatRange(1.0, 4.0), default=DEFAULTS.upsample,
                     show_default=True,
                     help="Bilinear upsampling inside the graph before the backbone "
                          "(keeps high-frequency traces through its strides)."),
        click.option("--epochs", type=click.IntRange(1), default=DEFAULTS.epochs,
                     show_default=True),
        click.option("--batch-size", type=click.IntRange(2), default=DEFAULTS.batch_size,
                     show_default=True),
        click.option("--lr", type=float, default=DEFAULTS.lr, show_default=True,
                     help="Peak learning rate (one-cycle AdamW)."),
        click.option("--weight-decay", type=float, default=DEFAULTS.weight_decay,
                     show_default=True),
        click.option("--label-smoothing", type=click.FloatRange(0, 0.5),
                     default=DEFAULTS.label_smoothing, show_default=True),
        click.option("--ema", type=click.FloatRange(0, 0.9999), default=DEFAULTS.ema,
                     show_default=True,
                     help="Decay of an exponential moving average of the weights; the "
                          "average is what gets selected and exported (0: off)."),
        click.option("--blur-jpeg-p", type=click.FloatRange(0, 1),
                     default=DEFAULTS.blur_jpeg_p, show_default=True,
                     help="Probability of each of blur and JPEG re-compression per image."),
        click.option("--rescale-p", type=click.FloatRange(0, 1), default=DEFAULTS.rescale_p,
                     show_default=True,
                     help="Probability of resizing a training image by a random factor "
                          "in [0.5, 1.5] (random filter) before cropping."),
        click.option("--inputs", type=click.Choice(INPUTS), default=DEFAULTS.inputs,
                     show_default=True,
                     help="What the backbone sees: the image, its neighbouring-pixel "
                          "residual x - up(down(x)) (NPR), or both (computed in the graph)."),
        click.option("--seed", type=int, default=DEFAULTS.seed, show_default=True),
        click.option("--threads", type=click.IntRange(0), default=0,
                     help="PyTorch CPU threads (0: its default)."),
    ]
    return stack_options(options, func)


def set_threads(threads: int) -> None:
    """Apply --threads."""
    if threads:
        import torch

        torch.set_num_threads(threads)


class ThresholdType(click.ParamType):
    """A probability, or 'auto'."""

    name = "auto|P"

    def convert(self, value: Any, param: Any, ctx: Any) -> float | None:
        if value is None or value == "auto":
            return None
        try:
            threshold = float(value)
        except (TypeError, ValueError):
            threshold = -1.0
        if not 0 <= threshold <= 1:
            self.fail(f"{value!r} is not 'auto' or a number in [0, 1]", param, ctx)
        return threshold


@click.group(cls=TrainerGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Train the real vs AI-generated image classifier and export it to ONNX."""


@main.command()
@data_options
@click.option("--regime", type=click.Choice(REGIMES), default=DEFAULTS.regime,
              show_default=True,
              help="finetune / linear-probe start from ImageNet weights; scratch does not.")
@training_options
@click.option("--tta", type=click.Choice(["auto", "on", "off"]), default=DEFAULTS.tta,
              show_default=True,
              help="Average with the mirror image in the exported graph (auto: only if it "
                   "improves validation).")
@click.option("--patch-scoring", type=click.Choice(["auto", "on", "off"]),
              default=DEFAULTS.patch_scoring, show_default=True,
              help="Score an image as the mean logit of crop-sized tiles covering it, as "
                   "it was trained (auto: only if it improves validation).")
@click.option("--threshold", type=ThresholdType(), default="auto", show_default=True,
              help="Decision threshold on P(fake) stored in the model; auto: the best "
                   "mean per-source accuracy on the validation images of the trained "
                   "sources.")
@click.option("--out", type=click.Path(path_type=Path), metavar="DIR",
              help="Run folder (default runs/images-<timestamp>).")
@click.option("--name", default="deepfake", show_default=True,
              help="Model name: files are <name>.onnx, <name>.json, <name>.*.png.")
@click.option("--overwrite", is_flag=True, help="Replace an existing <name>.onnx in --out.")
@click.option("-q", "--quiet", is_flag=True, help="No per-step log.")
def fit(data_sources: tuple[str, ...], out: Path | None, name: str, overwrite: bool,
        quiet: bool, threads: int, **hyper: Any) -> None:
    """Train one model, select its epoch on validation, export ONNX + card + plots."""
    from batch_classifier.trainer.images.data import load_image_data
    from batch_classifier.trainer.images.export import save_run
    from batch_classifier.trainer.images.train import make_detector, train_images

    set_threads(threads)
    folder = prepare_run_folder(out, name, "images", overwrite)
    config = config_from(ImagesConfig, hyper)
    model = make_detector(config)  # fails fast when ImageNet weights are missing
    data = load_image_data(data_sources, config.size, config.hold_out)
    click.echo(f"data: {data.source} ({len(data.train)}/{len(data.val)}/{len(data.test)} "
               f"train/val/test, {data.fingerprint})", err=True)
    result = train_images(data, config, model=model,
                          log=(lambda _: None) if quiet else lambda m: click.echo(m, err=True))
    onnx_path = save_run(result, data, folder, name)
    m = result.metrics
    test = f"  test acc {m['test_acc']:.4f} auc {m['test_auc']:.4f}" if "test_acc" in m else ""
    click.echo(f"best epoch {result.best_epoch}: val acc {m['val_acc']:.4f} "
               f"auc {m['val_auc']:.4f}{test}  -> {onnx_path} "
               f"({onnx_path.stat().st_size / 2**20:.1f} MiB)")


@main.command()
@data_options
@training_options
@click.option("--lrs", default="1e-1,1e-2,1e-3,1e-4,1e-5", show_default=True,
              help="Comma-separated learning rates.")
@click.option("--regimes", default=",".join(REGIMES), show_default=True,
              help="Comma-separated regimes.")
@click.option("--output", "output_path", type=click.Path(path_type=Path), metavar="FILE",
              help="Also write the markdown table here.")
def study(data_sources: tuple[str, ...], lrs: str, regimes: str, output_path: Path | None,
          threads: int, **hyper: Any) -> None:
    """The original study's protocol: Adam, batch 32, 1 epoch, constant learning rate,
    for each regime and learning rate; prints a markdown table of val/test accuracy."""
    from batch_classifier.trainer.images.data import load_image_data
    from batch_classifier.trainer.images.study import run_study

    chosen = [r.strip() for r in regimes.split(",") if r.strip()]
    unknown = sorted(set(chosen) - set(REGIMES))
    if unknown:
        raise click.UsageError(f"--regimes: unknown {', '.join(unknown)}")
    try:
        rates = [float(v) for v in lrs.split(",") if v.strip()]
    except ValueError:
        raise click.UsageError(f"--lrs: not a list of numbers: {lrs}") from None
    set_threads(threads)
    config = config_from(ImagesConfig, hyper)
    data = load_image_data(data_sources, config.size, config.hold_out)
    table = run_study(data, config, rates, chosen, log=lambda m: click.echo(m, err=True))
    click.echo(table)
    if output_path:
        output_path.write_text(table + "\n")


@main.command()
@click.argument("cards", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--split", type=click.Choice(["val", "test"]), default="val", show_default=True)
@click.option("--held-out", "held_out", is_flag=True,
              help="Only the leave-one-generator-out table: per method (run folder name "
                   "without the held-out source), each held-out source's AUC / caught.")
def report(cards: tuple[Path, ...], split: str, held_out: bool) -> None:
    """Markdown tables of per-source figures from model cards (CARD.json or MODEL.onnx):
    accuracy / ROC AUC per source for every card, then each card's P(fake) quantiles."""
    from batch_classifier.trainer.images.report import (
        held_out_table,
        load_card,
        quantile_table,
        source_table,
    )

    loaded = {str(path.parent.name or path): load_card(path) for path in cards}
    if held_out:
        click.echo(held_out_table(loaded, split))
        return
    click.echo(source_table(loaded, split))
    for label, card in loaded.items():
        click.echo(f"\n{label}\n\n{quantile_table(card, split)}")


@main.command()
@click.argument("members", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@data_options
@click.option("--size", type=click.IntRange(32), default=DEFAULTS.size, show_default=True,
              help="The members' input size (images are loaded as for training).")
@click.option("--threshold", type=ThresholdType(), default="auto", show_default=True,
              help="Decision threshold; auto: tuned on validation as by fit.")
@click.option("--out", type=click.Path(path_type=Path), metavar="DIR",
              help="Run folder (default runs/images-<timestamp>).")
@click.option("--name", default="deepfake", show_default=True)
@click.option("--overwrite", is_flag=True, help="Replace an existing <name>.onnx in --out.")
def ensemble(members: tuple[Path, ...], data_sources: tuple[str, ...],
             hold_out: tuple[str, ...], size: int, threshold: float | None, out: Path | None,
             name: str, overwrite: bool) -> None:
    """Merge exported detectors (MEMBER.onnx ...) into one graph that averages their
    logits; measure it per source on --data (threshold tuned on validation) and write
    it with its card, which names each member's command."""
    from batch_classifier.trainer.images.data import load_image_data
    from batch_classifier.trainer.images.ensemble import build_ensemble
    from batch_classifier.trainer.images.export import save_ensemble

    folder = prepare_run_folder(out, name, "images", overwrite)
    data = load_image_data(data_sources, size, hold_out)
    result = build_ensemble(list(members), data, threshold)
    onnx_path = save_ensemble(result, data, folder, name)
    m = result.metrics
    click.echo(f"ensemble of {len(members)}: val acc {m['val_acc']:.4f} auc "
               f"{m['val_auc']:.4f}  test acc {m.get('test_acc', float('nan')):.4f} -> "
               f"{onnx_path} ({onnx_path.stat().st_size / 2**20:.1f} MiB)")


SELFMADE = SelfMadeConfig()


@main.command()
@click.option("--data", "data_sources", required=True, multiple=True, metavar="DIR",
              help="A source whose reals are reconstructed (layout as for fit). Repeatable.")
@click.option("--out", type=click.Path(path_type=Path), required=True, metavar="DIR",
              help="New folder: becomes a source for fit (--data DIR).")
@click.option("--size", type=click.IntRange(16), default=SELFMADE.size, show_default=True,
              help="Side of the square images read and written (as for fit).")
@click.option("--steps", type=click.IntRange(1), default=SELFMADE.steps, show_default=True,
              help="Training steps of each autoencoder.")
@click.option("--max-per-split", type=click.IntRange(1), default=SELFMADE.max_per_split,
              show_default=True, help="Reals reconstructed per split (picked by name hash).")
@click.option("--seed", type=int, default=SELFMADE.seed, show_default=True)
@click.option("--threads", type=click.IntRange(0), default=0,
              help="PyTorch CPU threads (0: its default).")
def selfmade(data_sources: tuple[str, ...], out: Path, size: int, steps: int,
             max_per_split: int, seed: int, threads: int) -> None:
    """Make fakes without any generator: train small autoencoders (transposed-convolution
    and nearest-neighbour decoders) on the training reals of --data, and write each
    split's reals reconstructed by them to --out as a fake source."""
    from dataclasses import replace

    from batch_classifier.trainer.card import command_line
    from batch_classifier.trainer.images.selfmade import make_selfmade

    set_threads(threads)
    config = replace(SELFMADE, size=size, crop=min(SELFMADE.crop, size), steps=steps,
                     max_per_split=max_per_split, seed=seed)
    path = make_selfmade(list(data_sources), out, config, command_line(),
                         log=lambda m: click.echo(m, err=True))
    click.echo(f"self-made fakes -> {out} ({path.name})")
