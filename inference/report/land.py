"""The world outline shipped with the package (land.txt, made by
`python -m batch_classifier.trainer.cities.land_outline` from the global-land-mask
raster) as an SVG path in equirectangular coordinates: x = longitude + 180, y = 90 -
latitude, in degrees."""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def land_path() -> str:
    """The `d` of one SVG path covering the land cells (each run of cells a rectangle)."""
    lines = [line for line in files(__package__).joinpath("land.txt").read_text().splitlines()
             if not line.startswith("#")]
    rows, columns = map(int, lines[0].split())
    step = 180 / rows
    commands = []
    for row, line in enumerate(lines[1:rows + 1]):
        x = 0
        for index, run in enumerate(map(int, line.split())):
            if index % 2:
                commands.append(f"M{x * step:g} {row * step:g}h{run * step:g}v{step:g}"
                                f"h{-run * step:g}z")
            x += run
    return "".join(commands)
