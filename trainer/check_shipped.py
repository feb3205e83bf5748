"""Re-evaluate every shipped model on its reference test split; fail on a regression.

    python -m batch_classifier.trainer.check_shipped --data-root ../shared/data

Each model in exported/ is run through the inference package (ONNX Runtime and a
cities model's cell lookup, exactly as users run them) on the test split named by its
card, and the accuracy must not fall below the test accuracy its card records (for an
images model also per source).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import click
import numpy as np

from batch_classifier.inference.cities.classifier import CountryClassifier
from batch_classifier.inference.session import load_model

TOLERANCE = 5e-4  # ONNX Runtime builds may differ in the last float bits


Accuracies = dict[str, float]  # "" the whole test split, else a source's part of it


def cities_test_accuracy(model_path: Path, card: dict, data_root: Path) -> Accuracies | None:
    """Accuracy of a cities model on the test split its card names (None if absent here)."""
    from batch_classifier.trainer.cities.data import load_cities_data

    source = card["data"]["source"]
    local = source if source.startswith("geonames") else data_root / Path(source).name
    if not source.startswith("geonames") and not Path(local).exists():
        return None
    data = load_cities_data(str(local))
    classifier = CountryClassifier(model_path, device="cpu")  # its cell lookup included
    best = classifier.top(data.test.latlon).best[:, 0]
    predicted = np.array(classifier.model.contract.label_codes)[best]
    truth = np.array(data.codes)[data.test.labels]
    return {"": float((predicted == truth).mean())}


def images_test_accuracy(model_path: Path, card: dict, data_root: Path) -> Accuracies | None:
    """Accuracy of an images model on the test split of every source its card names
    (<data set>/test/{real,fake}), decoded as users' files are, in all and per source
    (None if a data set is absent here)."""
    from batch_classifier.inference.files.walk import FoundFile
    from batch_classifier.inference.images.pipeline import decoded_batches
    from batch_classifier.inference.images.predict import fake_probabilities, input_size
    from batch_classifier.trainer.images.data import class_files

    roots = [data_root / Path(source).name for source in card["data"]["source"].split(",")]
    if not all((root / "test").is_dir() for root in roots):
        return None
    model = load_model(model_path, device="cpu", task="images")
    truth = {item.path: (item.label, item.source)
             for root in roots for item in class_files(root / "test", root.name)}
    right: dict[str, list[bool]] = {}
    for batch in decoded_batches(map(FoundFile, truth), input_size(model), 32):
        paths = [found.path for found in batch.files]
        if any(batch.errors):
            raise click.ClickException(f"unreadable test image among {paths}")
        predicted = fake_probabilities(model, batch.images) >= model.contract.threshold
        for path, guess in zip(paths, predicted.tolist(), strict=True):
            label, source = truth[path]
            right.setdefault(source, []).append(guess == label)
    every = [hit for hits in right.values() for hit in hits]
    return {"": float(np.mean(every)), **{s: float(np.mean(h)) for s, h in right.items()}}


EVALUATORS: dict[str, Callable[[Path, dict, Path], Accuracies | None]] = {
    "cities": cities_test_accuracy,
    "images": images_test_accuracy,
}


@click.command()
@click.option("--data-root", type=click.Path(path_type=Path), required=True,
              help="Folder holding the reference data sets (e.g. ../shared/data).")
@click.option("--models", type=click.Path(path_type=Path), default=Path("exported"),
              show_default=True)
def main(data_root: Path, models: Path) -> None:
    """Fail (exit 1) if a shipped model scores below its card's test accuracy."""
    failures = 0
    for card_path in sorted(models.glob("*.json")):
        card = json.loads(card_path.read_text())
        model_path = models / card["onnx_file"]
        evaluator = EVALUATORS.get(card["task"])
        if evaluator is None or not model_path.is_file():
            continue
        accuracies = evaluator(model_path, card, data_root)
        if accuracies is None:
            click.echo(f"{model_path.name}: reference data not found, skipped")
            continue
        by_source = card["metrics"].get("test_sources", {})
        for part, accuracy in sorted(accuracies.items()):
            if part and part not in by_source:
                continue  # a card from before per-source figures
            recorded = by_source[part]["acc"] if part else card["metrics"]["test_acc"]
            ok = accuracy >= recorded - TOLERANCE
            failures += not ok
            click.echo(f"{model_path.name}{f' {part}' if part else ''}: test accuracy "
                       f"{accuracy:.4f} (card: {recorded:.4f}) {'ok' if ok else 'REGRESSION'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
