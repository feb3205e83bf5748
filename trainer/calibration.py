"""Temperature scaling and expected calibration error."""

from __future__ import annotations

import torch


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The temperature T minimising the NLL of softmax(logits / T) (fit on validation)."""
    log_t = torch.zeros((), requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.1, max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(logits / log_t.exp(), labels)
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(log_t.detach().exp())


def expected_calibration_error(probabilities: torch.Tensor, labels: torch.Tensor,
                               bins: int = 15) -> float:
    """ECE of the top-1 confidence over equal-width confidence bins."""
    confidence, predicted = probabilities.max(dim=1)
    return calibration_error(confidence, predicted == labels, bins)


def calibration_error(confidence: torch.Tensor, correct: torch.Tensor, bins: int = 15) -> float:
    """ECE of stated confidences against whether each answer was right."""
    correct = correct.float()
    edges = torch.linspace(0, 1, bins + 1)
    ece = torch.zeros(())
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            gap = (confidence[inside].mean() - correct[inside].mean()).abs()
            ece += gap * inside.float().mean()
    return float(ece)
