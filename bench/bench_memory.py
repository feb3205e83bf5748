"""Peak resident memory of the classify commands on inputs that used to blow it up.

    python bench/bench_memory.py thin-png              # a 16,000 x 1 PNG (bar: < 1 GiB)
    python bench/bench_memory.py wide-csv              # 40 CSV rows of 1 MiB, three ways
                                                       # (bar: < 300 MiB)
    python bench/bench_memory.py tiny-pngs --count 640 # many tiny PNGs, the shipped model
    python bench/bench_memory.py all

Each case runs the command in a fresh Python process that prints its own peak RSS
(VmHWM from /proc/self/status) at exit, next to a baseline of the same command on a
trivial input, so the figures show what the input itself costs. Generated inputs live in
a temporary folder.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

PEAK_RSS = """
import sys
import batch_classifier.inference.{module}.cli as cli
{setup}
try:
    cli.main()
finally:
    with open("/proc/self/status") as status:  # VmHWM: this process's own peak
        print("peak_kib", next(l for l in status if l.startswith("VmHWM:")).split()[1],
              file=sys.stderr)
"""
ROOT = Path(__file__).resolve().parent.parent


def peak_mib(module: str, args: list[str], setup: str = "") -> tuple[float, float, float]:
    """(peak RSS in MiB, seconds, CPU seconds) of one run of classify-<module> with
    `args` (after running `setup` in its process)."""
    started, cpu = time.perf_counter(), _children_cpu()
    code = PEAK_RSS.format(module=module, setup=setup)
    result = subprocess.run([sys.executable, "-c", code, *args],
                            capture_output=True, text=True, check=False)
    seconds, cpu = time.perf_counter() - started, _children_cpu() - cpu
    lines = [line for line in result.stderr.splitlines() if line.startswith("peak_kib")]
    if not lines:
        raise SystemExit(f"classify-{module} failed: {result.stderr[-2000:]}")
    return int(lines[-1].split()[1]) / 1024, seconds, cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def report(name: str, module: str, case: list[str], baseline: list[str]) -> None:
    base, _, _ = peak_mib(module, baseline)
    peak, seconds, _ = peak_mib(module, case)
    print(f"{name}: peak RSS {peak:.0f} MiB ({seconds:.1f} s); trivial input {base:.0f} MiB")


def thin_png(folder: Path, model: str) -> None:
    """A 16,000 x 1 PNG: the resize to the model's square must not scale the long side."""
    Image.new("RGB", (16_000, 1), (90, 120, 200)).save(folder / "thin.png")
    Image.new("RGB", (8, 8)).save(folder / "small.png")
    report("16000x1 PNG", "images", [str(folder / "thin.png"), "--model", model, "-q"],
           [str(folder / "small.png"), "--model", model, "-q"])


def wide_csv(folder: Path, model: str) -> None:
    """40 rows of ~1 MiB each: one long text field; ~350,000 short fields (more than the
    header has); and as many fields as a header of ~175,000 columns."""
    row_chars = 1 << 20
    many = (row_chars - 16) // 3
    header = "lat,lon," + ",".join(f"c{i % 100:02d}" for i in range(many // 2))
    cases = {"one long field": ("lat,lon,note", "x" * (row_chars - 32)),
             "350k short fields": ("lat,lon,note", ",".join(["ab"] * many)),
             "175k columns": (header, ",".join(["ab"] * (many // 2)))}
    for name, (head, filler) in cases.items():
        with open(folder / "wide.csv", "w", encoding="utf-8") as handle:
            handle.write(head + "\n")
            for i in range(40):
                handle.write(f"48.85,2.{i:02d},{filler}\n")
        (folder / "small.csv").write_text(head + "\n48.85,2.35\n")
        report(f"40 rows x 1 MiB CSV, {name}", "cities",
               [str(folder / "wide.csv"), "--model", model, "-q", "-o", str(folder / "w.csv")],
               [str(folder / "small.csv"), "--model", model, "-q", "-o",
                str(folder / "s.csv")])


def tiny_pngs(folder: Path, model: str, count: int, batch: int) -> None:
    """`count` 8x8 PNGs through the shipped images model (steady-state memory), against
    the same run with the whole batch in one ONNX Runtime call (as before). Wall time on a
    shared machine is noisy; CPU seconds show the work done."""
    rng = np.random.default_rng(0)
    (folder / "many").mkdir()
    for i in range(count):
        Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(
            folder / "many" / f"{i:05d}.png")
    args = [str(folder / "many"), "--model", model, "-q", "--batch-size", str(batch),
            "-o", str(folder / "many.csv")]
    whole = ("import batch_classifier.inference.images.detector as detector\n"
             f"detector.PIXELS_PER_CALL = {batch} * 2048 * 2048")  # every batch in one call
    runs = {"batch in calls of 4 x 256^2 px": [], "whole batch per call": []}
    for _ in range(2):  # alternate, so a busy machine weighs on both alike
        runs["batch in calls of 4 x 256^2 px"].append(peak_mib("images", args))
        runs["whole batch per call"].append(peak_mib("images", args, whole))
    for name, results in runs.items():
        seconds, cpu = min(s for _, s, _ in results), min(c for _, _, c in results)
        print(f"{count} tiny PNGs, batch {batch}, {name}: peak RSS "
              f"{max(p for p, _, _ in results):.0f} MiB, best of 2: {seconds:.1f} s "
              f"({count / seconds:.1f} images/s), {cpu:.1f} CPU s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", choices=["thin-png", "wide-csv", "tiny-pngs", "all"])
    parser.add_argument("--images-model", default=str(ROOT / "exported/deepfake.onnx"))
    parser.add_argument("--cities-model", default=str(ROOT / "exported/cities-world.onnx"))
    parser.add_argument("--count", type=int, default=640, help="tiny PNGs to classify")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.case in ("thin-png", "all"):
            thin_png(folder, args.images_model)
        if args.case in ("wide-csv", "all"):
            wide_csv(folder, args.cities_model)
        if args.case in ("tiny-pngs", "all"):
            tiny_pngs(folder, args.images_model, args.count, args.batch_size)


if __name__ == "__main__":
    main()
