"""Temperature scaling makes an over-confident model's probabilities honest."""

from __future__ import annotations

import torch

from batch_classifier.trainer.calibration import expected_calibration_error, fit_temperature


def _overconfident_logits(n=4000, classes=5, seed=0):
    """Logits whose argmax is right ~70% of the time but whose softmax says ~100%."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(classes, (n,), generator=generator)
    noisy = torch.where(torch.rand(n, generator=generator) < 0.7, labels,
                        torch.randint(classes, (n,), generator=generator))
    logits = torch.randn(n, classes, generator=generator)
    logits[torch.arange(n), noisy] += 2.0
    return logits * 8.0, labels


def test_temperature_lowers_ece_of_an_overconfident_model():
    logits, labels = _overconfident_logits()
    before = expected_calibration_error(logits.softmax(1), labels)
    temperature = fit_temperature(logits, labels)
    held_out, held_labels = _overconfident_logits(seed=1)
    after = expected_calibration_error((held_out / temperature).softmax(1), held_labels)
    assert temperature > 3.0
    assert before > 0.2 and after < before / 4


def test_ece_is_zero_for_a_perfectly_calibrated_certain_model():
    labels = torch.tensor([0, 1, 2, 1])
    probabilities = torch.nn.functional.one_hot(labels, 3).float()
    assert expected_calibration_error(probabilities, labels) == 0.0
