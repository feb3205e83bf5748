"""A full disk or a closed pipe is one clear error line and exit 2, not a traceback."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.jobs_support import CLASSIFY_CITIES, write_cities_csv


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_output_that_cannot_be_written(tmp_path, cities_model):
    source = write_cities_csv(tmp_path / "in.csv", rows=50)
    with open("/dev/full", "w") as full:
        result = subprocess.run([*CLASSIFY_CITIES, str(source), "--model", str(cities_model),
                                 "-q"], stdout=full, stderr=subprocess.PIPE, text=True,
                                timeout=60)
    assert result.returncode == 2
    assert result.stderr == "error: <stdout>: cannot write output (No space left on device)\n"
