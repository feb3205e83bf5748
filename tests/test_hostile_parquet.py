"""Parquet files an attacker (or a careless exporter) makes: binary columns holding bytes
that are not UTF-8, data pages corrupted behind an intact footer, a disk that fills while
the output is written."""

from __future__ import annotations

import logging
import subprocess
import sys

import numpy as np
import pytest

from tests.jobs_support import CLASSIFY_CITIES, finished, read_rows, run_cli

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

LATITUDES = [b"45.1", b"\xff45", b"46.2", b"47.0", None, b"48\xc3", b"44.5"]


def binary_places(path, kind):
    """Twenty-one rows whose latitudes are bytes, two in three of every seven not UTF-8
    or missing; one name is not UTF-8 either (row 10)."""
    lats = LATITUDES * 3
    names = [f"place {i}".encode() for i in range(len(lats))]
    names[9] = b"caf\xe9"
    lat = pa.array(lats, pa.binary())
    if kind == "large_binary":
        lat = lat.cast(pa.large_binary())
    elif kind == "dictionary":
        lat = lat.dictionary_encode()
    table = pa.table({"name": pa.array(names, pa.binary()), "lat": lat,
                      "lon": np.linspace(1.0, 9.0, len(lats))})
    pq.write_table(table, path, row_group_size=5)
    return path


@pytest.mark.parametrize("kind", ["binary", "large_binary", "dictionary"])
def test_bytes_that_are_not_utf8_fail_their_row_only(tmp_path, cities_model, kind):
    source = binary_places(tmp_path / "in.parquet", kind)
    outputs = []
    for batch_size in (1, 2, 3, 1000):
        out = tmp_path / f"out-{batch_size}.csv"
        result = run_cli(source, "--model", cities_model, "-q", "--batch-size", batch_size,
                         "-o", out)
        assert result.exit_code == 1, result.output
        outputs.append(out.read_bytes())
    assert len(set(outputs)) == 1, "results depend on where the batches end"
    rows = read_rows(tmp_path / "out-1.csv")
    header, rows = rows[0], rows[1:]
    error, lat, name = header.index("error"), header.index("lat"), header.index("name")
    for number, row in enumerate(rows, start=1):
        raw = LATITUDES[(number - 1) % len(LATITUDES)]
        if number == 10:
            assert row[name] == "caf\ufffd" and "not UTF-8" in row[error], row
        elif raw is None:
            assert row[error] == f"row {number}: missing latitude", row
        elif b"\xff" in raw or b"\xc3" in raw:
            assert row[error].startswith(f"row {number}: not UTF-8"), row
            assert "'lat'" in row[error] and "\ufffd" in row[lat], row
        else:
            assert row[error] == "" and row[lat] == raw.decode(), row


def corrupt_page(path, row_group: int, how: str) -> None:
    """Overwrite part of the first data page of `row_group`; the footer stays intact."""
    chunk = pq.ParquetFile(path).metadata.row_group(row_group).column(0)
    data = bytearray(path.read_bytes())
    start = chunk.data_page_offset + (0 if how == "header" else 40)
    data[start:start + 2000] = b"\x99" * 12 + b"\0" * 1988 if how == "header" else b"\0" * 2000
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["header", "values"])
def test_a_corrupt_page_is_one_line_naming_its_row_group(tmp_path, cities_model, how):
    source = tmp_path / "in.parquet"
    rng = np.random.default_rng(0)
    pq.write_table(pa.table({"lat": rng.uniform(40, 50, 4000), "lon": rng.uniform(0, 9, 4000)}),
                   source, row_group_size=1000, compression="none")
    corrupt_page(source, 2, how)
    out = tmp_path / "out.csv"
    out.write_text("yesterday\n")
    result = subprocess.run([*CLASSIFY_CITIES, str(source), "--model", str(cities_model),
                             "-o", str(out), "-q"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) <= 2 and f"{source}: " in lines[-1], result.stderr
    assert "row group 3 of 4" in lines[-1] and "rows 2001-3000" in lines[-1], lines[-1]
    assert out.read_text() == "yesterday\n"  # the previous output is kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet", "out.csv"]


def test_a_corrupt_page_in_a_dask_part_is_one_line_too(tmp_path, cities_model):
    distributed = pytest.importorskip("distributed")
    source = tmp_path / "in.parquet"
    rng = np.random.default_rng(0)
    pq.write_table(pa.table({"lat": rng.uniform(40, 50, 4000), "lon": rng.uniform(0, 9, 4000)}),
                   source, row_group_size=1000, compression="none")
    corrupt_page(source, 1, "header")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address="127.0.0.1:0",
                                  silence_logs=logging.CRITICAL) as cluster:
        result = run_cli(source, "--model", cities_model, "--dask", cluster.scheduler_address,
                         "-o", tmp_path / "out", "-q")
    finished(result, 2)
    lines = result.output.strip().splitlines()
    assert len(lines) <= 2 and "row group 2 of 4 (rows 1001-2000) cannot be read" in lines[-1]


DISK_FULL = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv.pop(1)),) * 2)
from batch_classifier.inference.cities.cli import main
main()
"""


def classify_with_file_limit(limit: int, *args) -> subprocess.CompletedProcess:
    """classify-cities where no file may grow past `limit` bytes: a write past it fails
    (EFBIG) as it would on a full disk (ENOSPC)."""
    return subprocess.run([sys.executable, "-c", DISK_FULL, str(limit), *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_a_full_disk_leaves_no_parquet_temp_file(tmp_path, cities_model):
    source = tmp_path / "in.csv"
    rng = np.random.default_rng(1)
    lines = [f"{i},{lat:.5f},{lon:.5f}" for i, (lat, lon) in
             enumerate(zip(rng.uniform(40, 50, 140_000), rng.uniform(0, 9, 140_000), strict=True))]
    source.write_text("id,lat,lon\n" + "\n".join(lines) + "\n")
    whole = tmp_path / "whole.parquet"
    assert classify_with_file_limit(1 << 30, source, "--model", cities_model, "-o", whole,
                                    "-q").returncode == 0
    out = tmp_path / "out" / "places.parquet"
    out.parent.mkdir()
    size = whole.stat().st_size
    for limit in (100, size // 2, size - 16):  # the first row group, a later one, the footer
        result = classify_with_file_limit(limit, source, "--model", cities_model, "-o", out,
                                          "-q")
        assert result.returncode == 2, (limit, result.stderr)
        assert "Traceback" not in result.stderr, result.stderr
        assert f"{out}: cannot write output" in result.stderr.strip().splitlines()[-1]
        assert list(out.parent.iterdir()) == [], limit
