"""Helpers for the batch-job tests: generated CSVs and the classify-cities subprocess."""

from __future__ import annotations

import csv
import math
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner, Result

from batch_classifier.inference.cities.cli import main as classify_cities

CLASSIFY_CITIES = [sys.executable, "-m", "batch_classifier.inference.cities.cli"]


def write_cities_csv(path: Path, rows: int, seed: int = 0) -> Path:
    """A CSV of places in the test boxes, with awkward rows mixed in: names holding
    commas, quotes and newlines, non-ASCII text, missing and out-of-range coordinates."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id", "name", "lat", "lon"])
        for i in range(rows):
            lat, lon = f"{rng.uniform(37, 54):.5f}", f"{rng.uniform(-6, 23):.5f}"
            name = rng.choice(["plain", "Łódź, \"old\" town", "two\nlines", "end\r\nCRLF", "é"])
            if i % 97 == 5:
                lat = ""
            if i % 89 == 7:
                lon = "999"
            writer.writerow([i, f"{name} {i}", lat, lon])
    return path


def classify(*args: str | Path, expect: int | None = None) -> subprocess.CompletedProcess:
    """Run classify-cities in a subprocess, wait for it and check its exit status."""
    result = subprocess.run([*CLASSIFY_CITIES, *map(str, args)], capture_output=True,
                            text=True, timeout=60)
    if expect is not None and result.returncode != expect:
        raise AssertionError(f"rc {result.returncode}, want {expect}: {result.stderr}")
    return result


def read_rows(path: Path) -> list[list[str]]:
    """All records of a CSV output, header included."""
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def assert_same_rows(got: list[list[str]], want: list[list[str]],
                     confidence_columns: tuple[str, ...] = ("confidence",)) -> None:
    """Equal row for row, except confidences, which may differ in the last digit when
    the model ran the row in a batch of another size."""
    assert got[0] == want[0]
    assert len(got) == len(want), f"{len(got) - 1} rows, want {len(want) - 1}"
    loose = [want[0].index(name) for name in confidence_columns]
    for number, (a, b) in enumerate(zip(got[1:], want[1:], strict=True), start=1):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if i in loose and x and y:
                assert math.isclose(float(x), float(y), abs_tol=1e-4), (number, a, b)
            else:
                assert x == y, (number, a, b)


def finished(result: Result, code: int = 1) -> None:
    """A CLI run through click's test runner ran to its end (no exception) with exit
    code `code`."""
    assert result.exit_code == code and isinstance(result.exception, SystemExit | None), \
        result.output


def run_cli(*args: str | Path, input_text: str | None = None) -> Result:
    """classify-cities in-process through click's test runner."""
    return CliRunner().invoke(classify_cities, [str(a) for a in args], input=input_text)


def brightness_model(path: Path, size: int = 16, upsample: int = 1) -> Path:
    """A tiny images model, no training needed: P(fake) is the mean brightness (of the
    image upsampled `upsample` times inside the graph, which costs memory as a large
    model's activations do)."""
    import onnx
    from onnx import TensorProto, helper

    from batch_classifier.inference.contract import encode_metadata

    nodes = [
        helper.make_node("Cast", ["input"], ["floats"], to=TensorProto.FLOAT),
        helper.make_node("Resize", ["floats", "", "scales"], ["pixels"], mode="nearest"),
        helper.make_node("ReduceMean", ["pixels"], ["mean"], axes=[1, 2, 3], keepdims=0),
        helper.make_node("Div", ["mean", "full"], ["ratio"]),
        helper.make_node("Reshape", ["ratio", "shape"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes, "brightness",
        [helper.make_tensor_value_info("input", TensorProto.UINT8, ["N", size, size, 3])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 1])],
        [helper.make_tensor("full", TensorProto.FLOAT, [], [255.0]),
         helper.make_tensor("shape", TensorProto.INT64, [2], [-1, 1]),
         helper.make_tensor("scales", TensorProto.FLOAT, [4], [1, upsample, upsample, 1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    metadata = encode_metadata({
        "task": "images", "model_name": "brightness", "labels": ["real", "fake"],
        "input_contract": {"dtype": "uint8", "layout": "NHWC", "height": size, "width": size},
        "output": "probability_fake", "threshold": "0.5", "data_fingerprint": "none",
        "metrics": {}, "trainer_version": "test"})
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, path)
    return path


def write_images(folder: Path, count: int, seed: int = 0) -> list[Path]:
    """`count` small PNGs of random colours in `folder` (some in a subfolder)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        path = folder / ("sub" if i % 3 == 0 else "") / f"img {i:04d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


def file_size(path: Path) -> int:
    """Size in bytes, 0 for a file not there yet."""
    return path.stat().st_size if path.exists() else 0


def signal_when(proc: subprocess.Popen, out: Path, min_bytes: int | None, after_s: float = 0,
                sig: int = signal.SIGKILL) -> int:
    """Send `sig` once `out` has grown to `min_bytes` (or, without it, after `after_s`);
    return the exit status."""
    started = time.monotonic()
    while proc.poll() is None:
        due = (file_size(out) >= min_bytes if min_bytes is not None
               else time.monotonic() - started >= after_s)
        if due:
            proc.send_signal(sig)
            break
        time.sleep(0.0005)
    return proc.wait(timeout=60)


_MEASURED = """
import sys
try:
{code}
finally:
    with open("/proc/self/status") as status:
        peak = next(line for line in status if line.startswith("VmHWM:"))
    print("peak_kib", peak.split()[1], file=sys.stderr)
"""


def peak_rss_mib(code: str, *args: str | Path, timeout: int = 300,
                 ) -> tuple[subprocess.CompletedProcess, float]:
    """Run `code` in a fresh Python with `args`; (the process, its peak resident MiB).

    The peak is VmHWM, this process's own: ru_maxrss would also count the memory the
    test process had when it forked.
    """
    body = "\n".join("    " + line for line in code.strip().splitlines())
    result = subprocess.run([sys.executable, "-c", _MEASURED.format(code=body),
                             *map(str, args)], capture_output=True, text=True, timeout=timeout)
    peaks = [line.split()[1] for line in result.stderr.splitlines()
             if line.startswith("peak_kib")]
    return result, int(peaks[-1]) / 1024 if peaks else float("nan")


def cli_code(module: str) -> str:
    """Code that runs the CLI of `batch_classifier.inference.<module>.cli` on sys.argv."""
    return f"from batch_classifier.inference.{module}.cli import main\nmain()"


def classify_cities_without(module: str, *args: str | Path) -> subprocess.CompletedProcess:
    """classify-cities in a subprocess that cannot import `module` (an extra not
    installed)."""
    code = (f"import sys; sys.modules[{module!r}] = None\n"
            "from batch_classifier.inference.cities.cli import main\n"
            f"main({[str(a) for a in args]!r})\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)


def cities_peak_mib(source: Path, model: Path) -> float:
    """Peak resident MiB of classify-cities on `source` (output beside it)."""
    result, peak = peak_rss_mib(cli_code("cities"), source, "--model", model, "-q",
                                "-o", f"{source}.out", timeout=120)
    assert result.returncode in (0, 1), result.stderr
    return peak
