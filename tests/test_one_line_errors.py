"""Failures that are one line on stderr and exit code 2, never a traceback: a Parquet
file damaged past its footer, a disk that is full (here: a file size limit) when the
lock or a Parquet output is written (no temporary file left)."""

from __future__ import annotations

import resource
import signal
import subprocess

import pytest

from tests.jobs_support import CLASSIFY_CITIES, run_cli

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def write_places(path, rows: int = 3000) -> None:
    table = pa.table({"name": [f"place {i}" for i in range(rows)],
                      "lat": [f"{40 + i % 10}.5" for i in range(rows)],
                      "lon": [f"{i % 20}.25" for i in range(rows)]})
    pq.write_table(table, path, row_group_size=1000, compression="none")


def test_a_damaged_page_with_an_intact_footer_is_one_line(tmp_path, cities_model):
    source = tmp_path / "places.parquet"
    write_places(source)
    column = pq.ParquetFile(source).metadata.row_group(1).column(1)
    data = bytearray(source.read_bytes())
    data[column.data_page_offset:column.data_page_offset + 24] = b"\xff" * 24
    source.write_bytes(bytes(data))
    result = run_cli(source, "--model", cities_model, "-o", tmp_path / "out.csv", "-q")
    assert result.exit_code == 2, result.output
    assert str(source) in result.stderr and len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "out.csv").exists()


def limited(max_bytes: int):
    """A preexec_fn: files may grow to `max_bytes` (beyond: EFBIG, as a full disk)."""
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))
    return limit


def test_a_full_disk_when_the_lock_is_written_is_one_line(tmp_path, cities_model):
    source = tmp_path / "in.csv"
    source.write_text("lat,lon\n48.85,2.35\n")
    result = subprocess.run([*CLASSIFY_CITIES, str(source), "--model", str(cities_model), "-o",
                             str(tmp_path / "out.csv")], capture_output=True, text=True,
                            timeout=120, preexec_fn=limited(0))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "lock" in result.stderr


def test_a_full_disk_under_a_parquet_output_leaves_no_temporary_file(tmp_path, cities_model):
    source = tmp_path / "in.csv"
    source.write_text("name,lat,lon\n" + "".join(f"place number {i},48.85,2.35\n"
                                                 for i in range(30000)))
    result = subprocess.run([*CLASSIFY_CITIES, str(source), "--model", str(cities_model), "-o",
                             str(tmp_path / "out.parquet")], capture_output=True, text=True,
                            timeout=300, preexec_fn=limited(100000))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "cannot write" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]  # (one row group)

