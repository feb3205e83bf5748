"""The fast CSV path writes a field exactly as the CSV writer would: a field holding a
control character (tab, C1, LS/PS) is quoted whichever path reads its line."""

from __future__ import annotations

import csv
import io

import pytest

from tests.jobs_support import run_cli


@pytest.mark.parametrize("char", ["\t", "\x90", "\u2028"])
def test_a_control_character_among_plain_lines_is_quoted(tmp_path, cities_model, char):
    plain = "".join(f"p{i},48.85,2.35\n" for i in range(600))
    source = tmp_path / "in.csv"
    source.write_text(f"name,lat,lon\n{plain}a{char}b,48.85,2.35\n{plain}", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = run_cli(source, "--model", cities_model, "-o", out, "-q")
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert f'\n"a{char}b",48.85,2.35,France,FR,' in text
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 1 + 1201 and rows[601][0] == f"a{char}b"
