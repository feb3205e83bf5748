"""Re-evaluate every shipped model on its reference test split; fail on a regression.

    python -m batch_classifier.trainer.check_shipped --data-root ../shared/data

Each model in exported/ is run through the inference package (ONNX Runtime, exactly
as users run it) on the test split named by its card, and the accuracy must not fall
below the test accuracy its card records.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import click
import numpy as np

from batch_classifier.inference.session import load_model

TOLERANCE = 5e-4  # ONNX Runtime builds may differ in the last float bits


def cities_test_accuracy(model_path: Path, card: dict, data_root: Path) -> float | None:
    """Accuracy of a cities model on the test split its card names (None if absent here)."""
    from batch_classifier.trainer.cities.data import load_cities_data

    source = card["data"]["source"]
    local = source if source.startswith("geonames") else data_root / Path(source).name
    if not source.startswith("geonames") and not Path(local).exists():
        return None
    data = load_cities_data(str(local))
    model = load_model(model_path, device="cpu", task="cities")
    probabilities = model.run(data.test.latlon)
    predicted = np.array(model.contract.label_codes)[probabilities.argmax(1)]
    truth = np.array(data.codes)[data.test.labels]
    return float((predicted == truth).mean())


def images_test_accuracy(model_path: Path, card: dict, data_root: Path) -> float | None:
    """Accuracy of an images model on <data set>/test/{real,fake}, decoded as users' files
    are (None if the data set is absent here)."""
    from batch_classifier.inference.files.walk import FoundFile
    from batch_classifier.inference.images.pipeline import decoded_batches
    from batch_classifier.inference.images.predict import fake_probabilities, input_size

    test = data_root / Path(card["data"]["source"]).name / "test"
    if not test.is_dir():
        return None
    model = load_model(model_path, device="cpu", task="images")
    labels = model.contract.labels
    truth = {path: labels.index(folder) for folder in labels
             for path in sorted((test / folder).iterdir())}
    correct = 0
    for batch in decoded_batches(map(FoundFile, truth), input_size(model), 32):
        if any(batch.errors):
            raise click.ClickException(f"unreadable test image in {test}")
        predicted = fake_probabilities(model, batch.images) >= model.contract.threshold
        correct += int((predicted == np.array([truth[f.path] for f in batch.files])).sum())
    return correct / len(truth)


EVALUATORS: dict[str, Callable[[Path, dict, Path], float | None]] = {
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
        accuracy = evaluator(model_path, card, data_root)
        recorded = card["metrics"]["test_acc"]
        if accuracy is None:
            click.echo(f"{model_path.name}: reference data not found, skipped")
            continue
        ok = accuracy >= recorded - TOLERANCE
        failures += not ok
        click.echo(f"{model_path.name}: test accuracy {accuracy:.4f} "
                   f"(card: {recorded:.4f}) {'ok' if ok else 'REGRESSION'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
