"""Write the world outline the HTML report draws (inference/report/land.txt) from the
global-land-mask raster: land cells of DEGREES degrees (half a degree by default) as
runs along each row, a few KB that a plain install can read without this package.

    python -m batch_classifier.trainer.cities.land_outline [--degrees 0.5] [--out FILE]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from batch_classifier.trainer.cities.landmask import LandRaster, load_land_raster

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "inference" / "report" / "land.txt"


def coarse_land(raster: LandRaster, degrees: float) -> np.ndarray:
    """bool [rows, columns] at `degrees`: a cell is land when at least a third of the
    raster's cells inside it are land."""
    rows, columns = round(180 / degrees), round(360 / degrees)
    step_r, step_c = raster.rows // rows, raster.columns // columns
    land = raster.land[:rows * step_r, :columns * step_c]
    fraction = land.reshape(rows, step_r, columns, step_c).mean(axis=(1, 3))
    return fraction >= 1 / 3


def row_runs(row: np.ndarray) -> list[int]:
    """Lengths of alternating sea and land runs along one row, starting with sea."""
    padded = np.concatenate([[False], row])
    changes = np.flatnonzero(padded[1:] != padded[:-1])
    return np.diff(np.concatenate([[0], changes, [len(row)]])).tolist()


def outline_text(land: np.ndarray, source: str) -> str:
    """The outline file: a comment, the grid size, then one line of runs per row."""
    lines = [f"# land cells of {180 / land.shape[0]:g} degrees from {source}; "
             "row 0 at 90N, runs of sea then land cells from 180W",
             f"{land.shape[0]} {land.shape[1]}"]
    lines += [" ".join(map(str, row_runs(row))) for row in land]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--degrees", type=float, default=0.5)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    raster = load_land_raster()
    args.out.write_text(outline_text(coarse_land(raster, args.degrees), raster.source))
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
