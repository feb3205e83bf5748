"""Model cards: the JSON beside each exported model, and the run folder it lives in."""

from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import click

from batch_classifier.trainer import __version__
from batch_classifier.trainer.atomic import write_atomically
from batch_classifier.trainer.errors import TrainerUsageError


def command_line() -> str:
    """The running click command with every option spelled out, defaults included.

    Spelling out the defaults keeps the card's command reproducing the same run even
    after a default changes.
    """
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]])
    words = ctx.command_path.split()
    for param in ctx.command.params:
        value = ctx.params.get(param.name)
        if isinstance(param, click.Argument):
            words += [str(item) for item in value] if param.nargs == -1 else [str(value)]
        elif isinstance(param, click.Option) and not param.hidden:
            words += _option_words(param, value)
    return shlex.join(words)


def _option_words(option: click.Option, value: Any) -> list[str]:
    name = max(option.opts, key=len)
    if option.is_flag and option.secondary_opts:
        return [name if value else max(option.secondary_opts, key=len)]
    if option.is_flag:
        return [name] if value else []
    if value is None:
        return []
    if option.multiple:
        return [word for item in value for word in (name, str(item))]
    return [name, str(value)]


def prepare_run_folder(out: Path | None, name: str, task: str, overwrite: bool) -> Path:
    """The run folder (default runs/<task>-<timestamp>); refuse to replace a model there."""
    folder = out or Path("runs") / f"{task}-{time.strftime('%Y%m%d-%H%M%S')}"
    if (folder / f"{name}.onnx").exists() and not overwrite:
        raise TrainerUsageError(
            f"{folder / (name + '.onnx')} exists; pass --overwrite to replace it"
        )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_card(onnx_path: Path, task: str, details: dict[str, Any]) -> Path:
    """Write the model card <name>.json beside `onnx_path`, atomically: provenance
    (trainer version, command line, file, size, time) followed by `details`."""
    card = {
        "trainer_version": __version__,
        "command": command_line(),
        "model_name": onnx_path.stem,
        "task": task,
        "onnx_file": onnx_path.name,
        "onnx_bytes": onnx_path.stat().st_size,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **details,
    }
    path = onnx_path.with_suffix(".json")
    write_atomically(path, (json.dumps(card, indent=2, sort_keys=False) + "\n").encode())
    return path


def amend_card(source: Path, out: Path, section: str, details: dict[str, Any]) -> Path | None:
    """Copy the card of the model `source` beside `out` (the same model with more
    metadata), with `section` set to `details` and the command that made it; None when
    `source` has no card."""
    card_path = source.with_suffix(".json")
    if not card_path.is_file():
        return None
    card = json.loads(card_path.read_text())
    card.update(onnx_file=out.name, onnx_bytes=out.stat().st_size)
    card[section] = {"command": command_line(), **details}
    path = out.with_suffix(".json")
    write_atomically(path, (json.dumps(card, indent=2, sort_keys=False) + "\n").encode())
    return path
