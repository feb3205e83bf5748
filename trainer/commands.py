"""What the train-* command groups share: trainer errors shown the way click shows its own
(one `Error:` line; a usage error with the command's usage line and exit code 2)."""

from __future__ import annotations

from typing import Any

import click

from batch_classifier.trainer.errors import TrainerError


class TrainerCommand(click.Command):
    """A click command that turns a TrainerError into click's error of the same meaning."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TrainerError as exc:
            if exc.exit_code == click.UsageError.exit_code:
                raise click.UsageError(str(exc), ctx) from None
            raise click.ClickException(str(exc)) from None


class TrainerGroup(click.Group):
    """A click group whose subcommands are TrainerCommands."""

    command_class = TrainerCommand
