"""The Python API's bars (issues 20 and 24), at their sizes, with the shipped models.

    python bench/bench_api.py memory --points 3000000   # peak RSS of CountryClassifier.predict
    python bench/bench_api.py travel --rows 100000      # Dask / multiprocessing = one process
    python bench/bench_api.py all

`memory` runs predict in a fresh Python that prints its own peak RSS (VmHWM), beside
the same on 10,000 points, so the figures show what the points cost (bar: 3M < 1 GiB).
`travel` runs the issue's snippet, `ddf.map_partitions(clf.predict_frame, meta=...)`, on
a LocalCluster of two worker processes, and `multiprocessing.Pool(2).map` over chunks,
and compares each row for row with `clf.predict_frame(df)` in this process; then the
same for `FakeImageDetector.predict` over generated image files. Times are wall-clock
on whatever else the machine runs: compare them within one run only.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PREDICT = """
import sys
import numpy as np
from batch_classifier import CountryClassifier
points = int(sys.argv[1])
rng = np.random.default_rng(0)
lat, lon = rng.uniform(-60, 70, points), rng.uniform(-180, 180, points)
result = CountryClassifier(device="cpu").predict(lat, lon)
print("classified", int(np.sum(result.error == None)), "of", points)  # noqa: E711
with open("/proc/self/status") as status:  # VmHWM: this process's own peak
    print("peak_kib", next(l for l in status if l.startswith("VmHWM:")).split()[1])
"""


def predict_peak(points: int) -> tuple[float, float, str]:
    """(peak RSS MiB, seconds, the 'classified' line) of predict on `points` points."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", PREDICT, str(points)], capture_output=True,
                            text=True, check=False)
    seconds = time.perf_counter() - started
    lines = result.stdout.splitlines()
    peaks = [line.split()[1] for line in lines if line.startswith("peak_kib")]
    if result.returncode or not peaks:
        raise SystemExit(f"predict on {points} points failed: {result.stderr[-2000:]}")
    return int(peaks[0]) / 1024, seconds, lines[0]


def memory(points: int) -> None:
    base, base_s, _ = predict_peak(10_000)
    peak, seconds, classified = predict_peak(points)
    verdict = "PASS" if peak < 1024 else "FAIL"
    print(f"memory: {verdict} predict on {points:,} points: peak RSS {peak:.0f} MiB "
          f"({seconds:.1f} s, {classified}); on 10,000 points {base:.0f} MiB ({base_s:.1f} s)")


def places(rows: int):
    """A pandas frame of points over the globe, a bad coordinate every 97 rows."""
    import pandas as pd

    rng = np.random.default_rng(1)
    lat, lon = rng.uniform(-89, 89, rows).round(5), rng.uniform(-180, 180, rows).round(5)
    lat[::97] = 95.0
    return pd.DataFrame({"id": np.arange(rows), "lat": lat, "lon": lon})


def compare(name: str, got, want, seconds: float) -> None:
    import pandas as pd

    try:
        pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))
        verdict = "PASS"
    except AssertionError as exc:
        verdict = f"FAIL ({str(exc).splitlines()[0]})"
    print(f"travel: {verdict} {name}: {len(got):,} rows equal clf.predict_frame(df) "
          f"row for row ({seconds:.1f} s)")


def travel(rows: int, images: int) -> None:
    import dask.dataframe as dd
    import distributed
    import pandas as pd

    from batch_classifier import CountryClassifier, FakeImageDetector

    df = places(rows)
    clf = CountryClassifier()
    started = time.perf_counter()
    want = clf.predict_frame(df)
    print(f"travel: one process: {rows:,} rows in {time.perf_counter() - started:.1f} s")
    chunks = [df.iloc[start:start + 10_000] for start in range(0, rows, 10_000)]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
            distributed.Client(cluster) as client:
        started = time.perf_counter()
        ddf = dd.from_pandas(df, npartitions=8)
        out = ddf.map_partitions(clf.predict_frame, meta=clf.predict_frame(df.head(2))).compute()
        compare("Dask map_partitions on LocalCluster(n_workers=2)", out, want,
                time.perf_counter() - started)
        folder = Path(tempfile.mkdtemp(prefix="bench-api-"))
        files = write_images(folder, images)
        detector = FakeImageDetector()
        started = time.perf_counter()
        whole = detector.predict(files)
        local_s = time.perf_counter() - started
        started = time.perf_counter()
        parts = client.gather(client.map(detector.predict, [files[i::4] for i in range(4)]))
        same_images("Dask client.map", whole, parts, time.perf_counter() - started, local_s)
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        started = time.perf_counter()
        out = pd.concat(pool.map(clf.predict_frame, chunks))
        compare("multiprocessing.Pool(2).map", out, want, time.perf_counter() - started)
        started = time.perf_counter()
        parts = pool.map(detector.predict, [files[i::4] for i in range(4)])
        same_images("multiprocessing.Pool(2).map", whole, parts, time.perf_counter() - started,
                    local_s)


def write_images(folder: Path, count: int) -> list[str]:
    """`count` 96 px PNGs of smooth gradients and of noise, and one broken file."""
    from PIL import Image

    rng = np.random.default_rng(2)
    files = []
    for i in range(count):
        if i % 2:
            pixels = rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)
        else:
            pixels = np.linspace(rng.uniform(0, 255, 3), rng.uniform(0, 255, 3),
                                 96 * 96).reshape(96, 96, 3).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"{i:04d}.png")
        files.append(str(folder / f"{i:04d}.png"))
    (folder / "broken.png").write_bytes(b"not an image")
    return [*files, str(folder / "broken.png")]


def same_images(name: str, whole, parts, seconds: float, local_s: float) -> None:
    """Whether the strided parts (files[i::4]) put back in order equal `whole`."""
    equal = True
    for column in whole:
        joined = np.empty(len(whole[column]), whole[column].dtype)
        for i, part in enumerate(parts):
            joined[i::len(parts)] = part[column]
        equal &= joined.tolist() == whole[column].tolist() if joined.dtype == object \
            else np.array_equal(joined, whole[column], equal_nan=True)
    print(f"travel: {'PASS' if equal else 'FAIL'} FakeImageDetector.predict via {name}: "
          f"{len(whole['label'])} files equal one process ({seconds:.1f} s; one process "
          f"{local_s:.1f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", choices=["memory", "travel", "all"])
    parser.add_argument("--points", type=int, default=3_000_000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--images", type=int, default=40)
    args = parser.parse_args()
    if args.case in ("memory", "all"):
        memory(args.points)
    if args.case in ("travel", "all"):
        travel(args.rows, args.images)


if __name__ == "__main__":
    main()
