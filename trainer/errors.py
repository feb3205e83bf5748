"""The trainer's own error type; the training CLIs turn it into one line on stderr."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click


class TrainerError(Exception):
    """A problem with the training data, weights or options, said in one line."""


def reported_as_click_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a click command body so a TrainerError becomes click's one-line error."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except TrainerError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper
