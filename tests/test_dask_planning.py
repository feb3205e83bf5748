"""What the --dask client plans without a cluster: CSV parts at record boundaries (quoted
newlines never cut), the output folder's rules, the options, and the missing extra."""

from __future__ import annotations

import pytest

from batch_classifier.inference.cities.reader import CoordinateCsv
from batch_classifier.inference.distributed.csvparts import (
    QUOTE_REACH,
    header_end,
    plan_file,
    ranges,
    scan_range,
)
from batch_classifier.inference.distributed.fileblock import open_block
from batch_classifier.inference.distributed.outdir import OutputFolder
from batch_classifier.inference.errors import UsageError
from tests.jobs_support import classify_cities_without


def records(table: CoordinateCsv) -> list[tuple[int, list[str], str | None]]:
    """(line, fields, error message) of every row a reader gives."""
    return [(line, fields, error and error.message) for chunk in table.chunks(7)
            for line, fields, error in zip(chunk.line_numbers, chunk.rows, chunk.errors,
                                           strict=True)]


def plan(path, blocksize, reach):
    start, size = header_end(str(path)), path.stat().st_size
    spans = ranges(start, size, blocksize)
    scans = [(span, scan_range(str(path), *span)) for span in spans]
    return plan_file(str(path), start, size, scans, reach)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_parts_read_exactly_the_records_of_the_whole_file(tmp_path, newline):
    lines = ["id,name,lat,lon"]
    for i in range(300):
        name = {7: '"two\nlines"', 150: '"a ""quoted"", name"', 220: '"three\n\nlines"'}.get(
            i, f"place {i}")
        lat = {11: "", 12: "abc", 13: "95"}.get(i % 40, f"{40 + i / 100:.2f}")
        lines.append(f"{i},{name},{lat},{i / 10:.1f}" + (",extra" if i % 77 == 5 else ""))
        if i % 50 == 9:
            lines.append("")
    path = tmp_path / "in.csv"
    path.write_bytes(("\ufeff" + newline.join(lines) + newline).encode())
    parts = plan(path, blocksize=200, reach=2)
    assert len(parts) > 10
    with CoordinateCsv(str(path)) as whole:
        want = records(whole)
    got = []
    for part in parts:
        with open_block(part.path, [(0, part.header_end), (part.start, part.end)]) as stream, \
                CoordinateCsv(part.path, stream=stream, first_line=part.first_line) as table:
            got += records(table)
    assert got == want
    quoted_lines = {line for line, fields, _ in want if fields and '"' in "".join(fields)
                    or (fields and "\n" in fields[1])}
    first_lines = {part.first_line for part in parts}
    assert not any(line + 1 in first_lines for line in quoted_lines)  # never right after


def test_quotes_keep_parts_from_starting_in_the_lines_after_them(tmp_path):
    path = tmp_path / "in.csv"
    lines = [f'"p, {i}",1,2' if i == 500 else f"p {i},1,2" for i in range(2000)]
    path.write_text("name,lat,lon\n" + "\n".join(lines) + "\n")
    first_lines = [part.first_line for part in plan(path, blocksize=400, reach=QUOTE_REACH)]
    assert len(first_lines) > 20
    assert not any(502 < line <= 502 + QUOTE_REACH for line in first_lines)  # quote: line 502
    quoted_throughout = tmp_path / "quoted.csv"
    quoted_throughout.write_text("name,lat,lon\n" + "".join(f'"p, {i}",1,2\n' for i in range(500)))
    assert len(plan(quoted_throughout, blocksize=100, reach=QUOTE_REACH)) == 1


def prepare(folder: OutputFolder, plan: dict, resume: bool) -> dict:
    """What a run does with its folder before its parts: read the journal (--resume),
    start the folder, and take the recorded parts whose files are there."""
    history = folder.history(plan, resume)
    folder.start(plan)
    return folder.done(history)


def test_the_output_folder_holds_only_its_own_files(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="not this tool's parts .notes.txt"):
        prepare(OutputFolder(tmp_path, "csv"), {"command": "x"}, resume=False)
    (tmp_path / "file.csv").write_text("")
    with pytest.raises(UsageError, match="is a file; with --dask, -o names a folder"):
        OutputFolder(tmp_path / "file.csv", "csv")


def test_a_resumed_folder_keeps_its_parts_and_refuses_another_plan(tmp_path):
    folder = OutputFolder(tmp_path / "out", "csv")
    assert prepare(folder, {"blocksize": 1}, resume=False) == {}
    folder.part_path(0).write_text("a\n")
    folder.record({"part": 0, "rows": 1})
    folder.record({"part": 1, "rows": 1})  # recorded, but its file is gone
    with open(tmp_path / "out" / "_progress.jsonl", "a") as journal:
        journal.write('{"part": 2, "ro')  # torn by a killed client
    assert prepare(folder, {"blocksize": 1}, resume=True) == {0: {"part": 0, "rows": 1}}
    with pytest.raises(UsageError, match="blocksize: 1 in the folder, 2 now"):
        prepare(folder, {"blocksize": 2}, resume=True)
    prepare(folder, {"blocksize": 2}, resume=False)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["_progress.jsonl"]


def test_dask_without_the_extra_is_one_line_and_exit_2(tmp_path):
    result = classify_cities_without("distributed", tmp_path / "in.csv", "--dask", "local",
                                     "-o", tmp_path / "out")
    assert result.returncode == 2
    assert result.stderr.startswith("error: --dask needs Dask, which is not installed")
    assert "pip install 'batch-classifier[dask]'" in result.stderr
    assert len(result.stderr.splitlines()) == 1
