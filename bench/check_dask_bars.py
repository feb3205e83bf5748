"""Check issue 10's bars for --dask on this machine, at their sizes (not timed; see
bench_dask.py for the time).

    python bench/check_dask_bars.py            # all of them, ~5 minutes on 2 busy cores

1. a 200,000-row CSV with bad rows: `--dask local:2 -o OUTDIR` parts, put together, are
   the bytes of the local `-o one.csv`;
2. a folder of 400 images with broken files: the same rows (path, label) either way;
3. a `--dask local:2` run killed with SIGKILL (the client, then one worker of another
   run), then `--resume`: the clean run's bytes;
4. Parquet: CSV -> Parquet holds the CSV output's values, and a Parquet input gives the
   CSV input's predictions, read back through pandas.
Each prints PASS or FAIL with what it compared.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
from PIL import Image

CITIES = [sys.executable, "-m", "batch_classifier.inference.cities.cli"]
IMAGES = [sys.executable, "-m", "batch_classifier.inference.images.cli"]


def write_places(path: Path, rows: int) -> None:
    """id,name,lat,lon with bad rows of every kind, quoted names here and there, blanks."""
    rng = random.Random(0)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id", "name", "lat", "lon"])
        for i in range(rows):
            lat, lon = f"{rng.uniform(-60, 70):.5f}", f"{rng.uniform(-180, 180):.5f}"
            lat, lon = {3: ("", lon), 5: ("north", lon), 7: (lat, "181"),
                        11: ("1e400", lon)}.get(i % 97, (lat, lon))
            name = "Ville, \"vieille\"\nville" if i % 20000 == 17 else f"place {i}"
            writer.writerow([i, name, lat, lon] + (["extra"] if i % 1013 == 9 else []))
            if i % 5000 == 1:
                handle.write("\n")


def write_images(folder: Path, count: int) -> None:
    """`count` small PNG and JPEG images, and some broken files among them."""
    rng = np.random.default_rng(0)
    for i in range(count):
        sub = folder / f"batch{i % 7}"
        sub.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (48 + i % 5, 64, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(sub / f"img{i:04d}.{'png' if i % 2 else 'jpg'}")
    for i, data in enumerate([b"", b"text, not an image", b"\x89PNG\r\n\x1a\n broken"] * 4):
        (folder / f"batch{i % 7}" / f"broken{i}.png").write_bytes(data)


def run(command: list[str], *args: object) -> subprocess.CompletedProcess:
    return subprocess.run([*command, *map(str, args), "-q"], capture_output=True, text=True)


def joined(folder: Path) -> bytes:
    texts = [part.read_bytes() for part in sorted(folder.glob("part-*.csv"))]
    return texts[0] + b"".join(text.split(b"\n", 1)[1] for text in texts[1:])


def report(name: str, ok: bool, detail: str) -> bool:
    print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}", flush=True)
    return ok


def cities_equal(scratch: Path, data: Path) -> bool:
    one, parts = scratch / "one.csv", scratch / "parts"
    local = run(CITIES, data, "-o", one)
    dask = run(CITIES, data, "--dask", "local:2", "-o", parts, "--blocksize", "1MB")
    success = json.loads((parts / "_SUCCESS").read_text())
    same = joined(parts) == one.read_bytes()
    return report("200,000-row CSV", same and local.returncode == dask.returncode == 1,
                  f"{success['parts']} parts, {success['rows']} rows, {success['failed']} "
                  f"failed {success['failed_by_kind']}; parts == local bytes: {same}")


def images_equal(scratch: Path) -> bool:
    folder = scratch / "images"
    write_images(folder, 400)
    local = run(IMAGES, folder, "-o", scratch / "images.csv")
    dask = run(IMAGES, folder, "--dask", "local:2", "--files-per-task", "50", "-o",
               scratch / "image-parts")
    want = pd.read_csv(scratch / "images.csv", keep_default_na=False)
    got = pd.concat([pd.read_csv(p, keep_default_na=False)
                     for p in sorted((scratch / "image-parts").glob("part-*.csv"))])
    pairs = {frozenset(map(tuple, frame[["path", "label"]].values)) for frame in (want, got)}
    same = len(pairs) == 1 and len(got) == len(want)
    return report("400 images with broken files",
                  same and local.returncode == dask.returncode == 1,
                  f"{len(got)} rows in {len(list((scratch / 'image-parts').glob('part-*')))} "
                  f"parts, {int((got['error'] != '').sum())} broken; same (path, label) set: "
                  f"{same}")


def killed_then_resumed(scratch: Path, data: Path, victim: str) -> bool:
    folder = scratch / f"killed-{victim}"
    args = [*CITIES, str(data), "--dask", "local:2", "-o", str(folder), "--blocksize", "256KB"]
    job = subprocess.Popen([*args, "-q"], stderr=subprocess.DEVNULL)
    journal = folder / "_progress.jsonl"
    while job.poll() is None and (not journal.exists()
                                  or journal.read_text().count('"part"') < 3):
        time.sleep(0.05)
    if victim == "client":
        job.send_signal(signal.SIGKILL)
    else:
        workers = [p for p in psutil.Process(job.pid).children(recursive=True)
                   if "spawn_main" in " ".join(p.cmdline())]  # the worker processes
        workers[0].kill()
    job.wait()
    resumed = run(args, "--resume") if victim == "client" else None
    same = joined(folder) == (scratch / "one.csv").read_bytes()
    done = journal.read_text().count('"part"')
    after = f"resumed: exit {resumed.returncode}" if resumed else f"job exit {job.returncode}"
    return report(f"--dask local:2, {victim} SIGKILLed mid-job"
                  + (", then --resume" if resumed else ""), same,
                  f"{done} part records, parts == clean run bytes: {same}; {after}")


def parquet_round_trip(scratch: Path, data: Path) -> bool:
    run(CITIES, data, "-o", scratch / "one.parquet")
    text = pd.read_csv(scratch / "one.csv", dtype=str, keep_default_na=False)
    frame = pd.read_parquet(scratch / "one.parquet")
    confidence = pd.to_numeric(text["confidence"], errors="coerce").to_numpy()
    strings = frame.drop(columns="confidence").fillna("").astype(object).to_numpy()
    want = text.drop(columns="confidence").astype(object).to_numpy()
    out_same = bool(strings.shape == want.shape and (strings == want).all()
                    and np.array_equal(frame["confidence"].to_numpy(), confidence,
                                       equal_nan=True))
    typed = text[list(text.columns[:4])].copy()
    typed.to_parquet(scratch / "in.parquet", row_group_size=20000)
    run(CITIES, scratch / "in.parquet", "-o", scratch / "from-parquet.csv")
    back = pd.read_csv(scratch / "from-parquet.csv", dtype=str, keep_default_na=False)
    columns = ["country", "country_code", "confidence"]
    kept = ~text["error"].str.contains("fields")  # a row with extra fields is whole here
    in_same = back[columns][kept].equals(text[columns][kept])
    return report("Parquet through pandas", out_same and in_same,
                  f"CSV -> Parquet values == CSV output: {out_same}; Parquet in -> "
                  f"predictions == CSV in: {in_same} ({int(kept.sum())} rows without extra "
                  "fields)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        scratch = Path(name)
        data = scratch / "big.csv"
        write_places(data, 200_000)
        results = [cities_equal(scratch, data), images_equal(scratch),
                   killed_then_resumed(scratch, data, "client"),
                   killed_then_resumed(scratch, data, "worker"),
                   parquet_round_trip(scratch, data)]
    print(f"{sum(results)} of {len(results)} passed")


if __name__ == "__main__":
    main()
