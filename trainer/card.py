"""Model cards: the JSON beside each exported model, and the run folder it lives in."""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import click

from trainer import __version__


def command_line() -> str:
    """The command that is running, as a user would retype it."""
    program = Path(sys.argv[0]).name
    return shlex.join([program, *sys.argv[1:]])


def prepare_run_folder(out: Path | None, name: str, task: str, overwrite: bool) -> Path:
    """The run folder (default runs/<task>-<timestamp>); refuse to replace a model there."""
    folder = out or Path("runs") / f"{task}-{time.strftime('%Y%m%d-%H%M%S')}"
    if (folder / f"{name}.onnx").exists() and not overwrite:
        raise click.UsageError(
            f"{folder / (name + '.onnx')} exists; pass --overwrite to replace it"
        )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_card(path: Path, card: dict[str, Any]) -> None:
    """Write the model card JSON (with trainer version and command line) atomically."""
    card = {"trainer_version": __version__, "command": command_line(), **card}
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(json.dumps(card, indent=2, sort_keys=False) + "\n")
    os.replace(temp, path)
