"""What --report costs, and what it makes: time and peak memory of each command with and
without --report (the same input, runs alternated, each a fresh process), the report's
size, its links, and its counts against the output's (also as headless Chromium shows
them, where Chromium is installed).

    python bench/bench_report.py images --images ../shared/data/faces/test
    python bench/bench_report.py cities --rows 1000000
    python bench/bench_report.py all --repeat 3 --screenshots docs/

Bars (issue 21): each report under 5 MB, only data: or # links, counts equal to the
output's; with --report, peak memory within 100 MB and time within 15% of the run
without it. On a loaded machine compare the ratio of medians, and repeat.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"""\b(?:src|href)\s*=\s*["']?([^"'\s>]*)""", re.IGNORECASE)
COUNT = re.compile(r'id="((?:count|country)-[^"]+)">([\d,]+)<')


def run_measured(args: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS in MiB) of one command in a fresh process."""
    started = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"{' '.join(args)}: exit {code}: {process.stderr.read().decode()[-2000:]}")
    process.stderr.close()
    return seconds, usage.ru_maxrss / 1024


def compare(name: str, command: list[str], output: Path, report: Path, repeat: int) -> None:
    """Run `command -o output` with and without `--report report`, alternately."""
    plain, with_report = [], []
    for _ in range(repeat):
        plain.append(run_measured([*command, "-o", str(output), "-q"]))
        with_report.append(run_measured([*command, "-o", str(output), "-q",
                                         "--report", str(report)]))
    for label, runs in (("without --report", plain), ("with --report", with_report)):
        print(f"{name} {label}: " + ", ".join(f"{s:.1f} s / {m:.0f} MiB" for s, m in runs))
    time_ratio = (statistics.median(s for s, _ in with_report)
                  / statistics.median(s for s, _ in plain))
    memory_diff = (statistics.median(m for _, m in with_report)
                   - statistics.median(m for _, m in plain))
    print(f"{name}: time with/without (medians) {time_ratio:.3f} (bar <= 1.15); peak memory "
          f"difference {memory_diff:+.0f} MiB (bar <= 100)")


def check_report(name: str, report: Path, output: Path, kind: str) -> None:
    """Size, links and counts of the report against the output (and in Chromium)."""
    text = report.read_text(encoding="utf-8")
    links = [link for link in LINK.findall(text) if not link.startswith(("data:", "#"))]
    want = expected_counts(output, kind)
    shown = {key: int(value.replace(",", "")) for key, value in COUNT.findall(text)}
    wrong = {key: (shown.get(key), value) for key, value in want.items()
             if shown.get(key) != value}
    print(f"{name} report: {report.stat().st_size / 1e6:.2f} MB (bar < 5), links other than "
          f"data:/#: {len(links)}, counts checked {len(want)}, differing: {wrong or 'none'}")
    chromium = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
    if chromium:
        with tempfile.TemporaryDirectory() as profile:
            dom = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                                  f"--user-data-dir={profile}", "--enable-logging=stderr",
                                  "--v=0", "--dump-dom", report.as_uri()],
                                 capture_output=True, text=True, timeout=300)
        in_dom = {key: int(value.replace(",", "")) for key, value in COUNT.findall(dom.stdout)}
        console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
        print(f"{name} in Chromium: counts as the output's: {in_dom == shown and not wrong}, "
              f"console messages: {len(console)}")


def expected_counts(output: Path, kind: str) -> dict[str, int]:
    """The counts the report must show, computed from the output with the csv module."""
    with open(output, encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle)
        if kind == "images":
            labels = Counter(row["label"] for row in rows)
            return {"count-real": labels["real"], "count-fake": labels["fake"],
                    "count-total": sum(labels.values())}
        total = classified = failed = 0
        countries: Counter[str] = Counter()
        for row in rows:
            total += 1
            failed += bool(row["error"])
            if row["country_code"] and not row["error"]:
                classified += 1
                countries[row["country_code"]] += 1
    want = {"count-rows": total, "count-classified": classified, "count-failed": failed}
    want.update({f"country-{code}": n for code, n in countries.most_common(20)})
    return want


def write_places(path: Path, rows: int) -> None:
    """id, lat, lon: half anywhere on the globe (much of it open sea), half over Europe."""
    rng = np.random.default_rng(0)
    half = rows // 2
    lat = np.concatenate([rng.uniform(-60, 75, half), rng.uniform(35, 70, rows - half)])
    lon = np.concatenate([rng.uniform(-180, 180, half), rng.uniform(-10, 40, rows - half)])
    order = rng.permutation(rows)
    with open(path, "w") as handle:
        handle.write("id,lat,lon\n")
        for start in range(0, rows, 65536):
            part = order[start:start + 65536]
            handle.write("".join(f"{i},{a:.5f},{b:.5f}\n" for i, a, b
                                 in zip(part.tolist(), lat[part].tolist(), lon[part].tolist(),
                                        strict=True)))


def screenshot(report: Path, target: Path, height: int) -> None:
    """Chromium's screenshot of the report's first `height` pixels, saved as a JPEG."""
    chromium = shutil.which("chromium")
    with tempfile.TemporaryDirectory() as profile:
        png = Path(profile) / "shot.png"
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--hide-scrollbars", f"--user-data-dir={profile}",
                        f"--window-size=1100,{height}", f"--screenshot={png}",
                        report.as_uri()], capture_output=True, timeout=300, check=True)
        Image.open(png).convert("RGB").save(target, quality=80, optimize=True)
    print(f"screenshot: {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", choices=["images", "cities", "all"])
    parser.add_argument("--images", type=Path, default=ROOT.parent / "shared/data/faces/test")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--screenshots", type=Path, help="Save a screenshot of each report here.")
    args = parser.parse_args()
    python = [sys.executable, "-m"]
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        if args.which in ("images", "all"):
            output, report = work / "images.csv", work / "r.html"
            compare("classify-images", [*python, "batch_classifier.inference.images.cli",
                                        str(args.images)], output, report, args.repeat)
            check_report("classify-images", report, output, "images")
            if args.screenshots:
                screenshot(report, args.screenshots / "report-images.jpg", 3000)
        if args.which in ("cities", "all"):
            places, output, report = work / "places.csv", work / "cities.csv", work / "c.html"
            write_places(places, args.rows)
            compare(f"classify-cities ({args.rows:,} rows)",
                    [*python, "batch_classifier.inference.cities.cli", str(places)],
                    output, report, args.repeat)
            check_report("classify-cities", report, output, "cities")
            if args.screenshots:
                screenshot(report, args.screenshots / "report-cities.jpg", 2300)


if __name__ == "__main__":
    main()
