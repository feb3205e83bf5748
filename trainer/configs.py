"""Build training configs from CLI values."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

Config = TypeVar("Config")


def config_from(cls: type[Config], values: dict[str, Any]) -> Config:
    """An instance of the dataclass `cls` from the values that are its fields."""
    names = {f.name for f in fields(cls)}
    return cls(**{key: value for key, value in values.items() if key in names})
