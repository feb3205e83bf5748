"""The fast CSV path gives the careful path's output byte for byte, on generated CSVs
with every kind of awkward and bad row, and its parts agree with what they stand for."""

from __future__ import annotations

import io
import math
import random
import tracemalloc

import numpy as np
import pytest

from batch_classifier.inference.cities import bytelines, mixed, reader, records
from batch_classifier.inference.cities.bytelines import ByteLines
from batch_classifier.inference.cities.classifier import CountryClassifier
from batch_classifier.inference.cities.decimals import parse_decimals
from batch_classifier.inference.cities.fastcsv import ChunkCsv, confidence_text
from batch_classifier.inference.cities.mixed import MixedChunks
from batch_classifier.inference.cities.predict import prediction_columns, prediction_dicts
from batch_classifier.inference.cities.reader import CoordinateCsv
from batch_classifier.inference.cities.rows import result_rows, valid_rows
from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.formats import added_names, csv_record
from batch_classifier.inference.readahead import read_ahead

NUMBERS = ["48.85", "2.35", "-0", "-0.0", "007.50", "52", "-33.123456789012", "0.1234567890123456",
           " 48.85", "48.85 ", "+48.85", "4.8e1", "nan", "inf", "", "abc", "95", "-181", "90",
           "180.0", "48,85", "4,8,5", "4_5", "\uff14\uff15", "\u0664\u0665", "48.", ".85", "-",
           "1.2.3", "48.85x", "--4"]
NAMES = ["Paris", "Łódź", "", " spaced ", '"quoted, with sep"', '"two\nlines"', '"say ""hi"""',
         'stray"quote', '"unclosed', "nel\x85", "ls\u2028", "ctl\x01", "nul\x00", "del\x7f",
         "lone\rcr", "comma, inside", "tab\tinside", "semi;colon", "pipe|bar"]


def _field(rng: random.Random, options: list[str], plain_share: float) -> str:
    return rng.choice(options[:2]) if rng.random() < plain_share else rng.choice(options)


def random_csv(rng: random.Random) -> bytes:
    """A CSV with a random separator, line ending and layout, mostly plain rows with
    every kind of awkward one mixed in."""
    sep, eol = rng.choice(",;\t|"), rng.choice(["\n", "\r\n"])
    columns = rng.choice([["id", "name", "lat", "lon"], ["lon", "lat"], ["Latitude", "x", "lng"]])
    lines = [sep.join(columns)]
    plain_share = rng.choice([0.5, 0.9, 1.0])
    for i in range(rng.randint(0, 60)):
        fields = {"id": str(i), "x": str(i), "name": _field(rng, NAMES, plain_share)}
        for name in ("lat", "lon", "Latitude", "lng"):
            fields[name] = _field(rng, NUMBERS, plain_share)
        row = [fields[c] for c in columns]
        if rng.random() > plain_share:
            row = rng.choice([row[:-1], row + ["extra"], [], [" "], row])
        lines.append(sep.join(row))
    data = (eol.join(lines) + rng.choice([eol, eol, ""])).encode("utf-8")
    if rng.random() < 0.1:  # one byte that is not UTF-8
        at = rng.randrange(len(data))
        data = data[:at] + b"\xff" + data[at:]
    return (b"\xef\xbb\xbf" if rng.random() < 0.2 else b"") + data


def careful_output(path, classifier, size: int, top_k: int, min_confidence: float):
    """What the careful path alone writes: header, records; and the error kinds."""
    added = prediction_columns(top_k) + ["error"]
    with CoordinateCsv(str(path)) as table:
        text, kinds = csv_record(table.header + added_names(table.header, added)), []
        for chunk in table.chunks(size):
            top = classifier.top(chunk.latlon[valid_rows(chunk)], top_k, min_confidence)
            rows, chunk_kinds = result_rows(chunk, prediction_dicts(classifier.model, top),
                                            added)
            text += "".join(map(csv_record, rows))
            kinds += chunk_kinds
    return text, kinds


def fast_output(path, classifier, size: int, top_k: int, min_confidence: float):
    """What the fast path (plain lines fast, the rest careful) writes."""
    added = prediction_columns(top_k) + ["error"]
    with CoordinateCsv(str(path)) as table:
        text, kinds = csv_record(table.header + added_names(table.header, added)), []
        render = ChunkCsv(classifier, top_k, min_confidence, "none", added)
        for chunk in MixedChunks(table, size):
            chunk_text, chunk_kinds = render.text(chunk)
            assert len(chunk_kinds) == chunk.rows <= size
            text += chunk_text
            kinds += chunk_kinds
    return text, kinds


@pytest.fixture(params=["roomy", "cramped"])
def buffers(request, monkeypatch):
    """Run with the real buffer sizes, and with tiny ones so every line meets a window
    edge, a refill and the line-length limit."""
    if request.param == "cramped":
        monkeypatch.setattr(bytelines, "READ_BYTES", 5)
        monkeypatch.setattr(mixed, "WINDOW_BYTES", 23)
        monkeypatch.setattr(mixed, "CHUNK_BYTES", 41)
        monkeypatch.setattr(mixed, "WINDOW_LINES", 3)
        monkeypatch.setattr(mixed, "MIN_RUN", 2)
        monkeypatch.setattr(mixed, "MAX_LINE_CHARS", 30)
        monkeypatch.setattr(reader, "MAX_LINE_CHARS", 30)
        monkeypatch.setattr(records, "MAX_LINE_CHARS", 30)
    return request.param


@pytest.fixture(scope="module", params=["plain", "globe"])
def model(request, cities_model, globe_model):
    """A model without sea, and one with sea (rows at open sea get an error)."""
    return CountryClassifier(cities_model if request.param == "plain" else globe_model,
                             device="cpu")


@pytest.mark.parametrize("seed", range(25))
def test_fast_path_writes_what_the_careful_path_writes(tmp_path, model, buffers, seed):
    rng = random.Random(seed)
    for case in range(10):
        path = tmp_path / f"in{case}.csv"
        path.write_bytes(random_csv(rng))
        options = (rng.choice([1, 2, 7, 1000]), rng.choice([1, 3, 9]), rng.choice([0.0, 0.9]))
        try:
            want = careful_output(path, model, *options)
        except UsageError as exc:  # not UTF-8, or no coordinate columns: same for both
            with pytest.raises(UsageError, match=str(exc).split("(")[0]):
                fast_output(path, model, *options)
            continue
        got = fast_output(path, model, *options)
        assert got == want, (path.read_bytes(), options)


def test_a_file_that_is_mostly_plain_goes_mostly_the_fast_way(tmp_path, model):
    lines = [f"{i},Paris,48.85,2.35" for i in range(3000)]
    lines[1000] = '1000,"Paris, France",48.85,2.35'
    lines[2000] = "2000,Paris,x,2.35"
    path = tmp_path / "in.csv"
    path.write_text("id,name,lat,lon\n" + "\n".join(lines) + "\n")
    with CoordinateCsv(str(path)) as table:
        parts = [part for chunk in MixedChunks(table, 4096) for part in chunk.parts]
    assert [len(getattr(part, "lines", getattr(part, "rows", []))) for part in parts] == \
        [1000, 1, 999, 1, 999]
    assert fast_output(path, model, 4096, 1, 0.0) == careful_output(path, model, 4096, 1, 0.0)


@pytest.mark.parametrize(("every", "fast_share"), [(50, 0.9), (2, 0.0)])
def test_quoted_rows_here_and_there_leave_the_rest_fast(tmp_path, every, fast_share):
    lines = [f'{i},"Paris, France",48.85,2.35' if i % every == 0 else f"{i},Paris,48.85,2.35"
             for i in range(5000)]
    path = tmp_path / "in.csv"
    path.write_text("id,name,lat,lon\n" + "\n".join(lines) + "\n")
    with CoordinateCsv(str(path)) as table:
        fast = sum(len(part.lines) for chunk in MixedChunks(table, 4096)
                   for part in chunk.parts if isinstance(part, mixed.PlainRun))
    assert fast >= fast_share * len(lines) and (fast < 0.5 * len(lines) or every > 2)


def test_a_window_of_tiny_rows_is_sorted_a_bounded_number_of_lines_at_a_time(tmp_path):
    """Issue 20 item 15: 4-byte rows put a million lines in one 4 MiB window, and sorting
    them all at once peaked at 1.5 GB; the work arrays now stay bounded by lines too."""
    path = tmp_path / "tiny.csv"
    path.write_bytes(b"lat,lon\n" + b"1,2\n" * 1_200_000)
    with CoordinateCsv(str(path)) as table:
        tracemalloc.start()
        try:
            first = next(iter(MixedChunks(table, 65536)))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert first.rows == 65536
    assert peak < 80 * 2**20, f"{peak / 2**20:.0f} MiB to sort one window"


def test_plain_decimals_parse_to_what_float_gives():
    rng = random.Random(0)
    texts = ["0", "-0", "1", "90", "-180", "0.5", "1,5", "123456789012345", "0.000000000000001",
             "1234567890123456", "+1", " 1", "1 ", "1e5", "1.", ".1", "-.1", "--1", "1..2",
             "1.2.3", "", "-", "nan", "\u0661", "\uff11", "1_0", "12345678901234.5", "9" * 17]
    texts += [f"{rng.uniform(-200, 200):.{rng.randint(0, 12)}f}" for _ in range(3000)]
    texts += [f"{rng.uniform(-1, 1):.{rng.randint(1, 15)}f}" for _ in range(3000)]
    data = "\n".join(texts).encode()
    buffer = np.frombuffer(data, np.uint8)
    ends = np.cumsum([len(t.encode()) + 1 for t in texts]) - 1
    starts = ends - [len(t.encode()) for t in texts]
    values, plain = parse_decimals(buffer, starts, ends)
    for text, value, is_plain in zip(texts, values.tolist(), plain.tolist(), strict=True):
        digits = sum(c.isdigit() for c in text)
        expected_plain = (text.lstrip("-").replace(",", ".", 1).replace(".", "", 1).isdigit()
                          and text.isascii() and not text.startswith("--") and digits <= 15
                          and not text.lstrip("-").startswith((".", ","))
                          and not text.endswith((".", ",")))
        assert is_plain == expected_plain, text
        if is_plain:
            exact = float(text.replace(",", "."))
            assert value == exact and math.copysign(1, value) == math.copysign(1, exact), text


def test_confidence_text_is_the_writers_rounding_and_format():
    rng = np.random.default_rng(0)
    probabilities = np.concatenate([
        np.arange(0, 3000) / 1e6, rng.uniform(0, 1, 100_000), rng.uniform(0, 1e-3, 10_000),
        [0.0, 1.0, 0.0078125, 0.9999995, 0.99999994, 1e-7, 5e-7, 4.9999e-5, 0.5],
    ]).astype(np.float32)
    got = confidence_text(probabilities).tolist()
    want = [f"{round(p, 6):.6g}".encode() for p in probabilities.tolist()]
    assert got == want


@pytest.mark.parametrize("seed", range(3))
def test_byte_lines_read_what_a_text_stream_reads(monkeypatch, seed):
    monkeypatch.setattr(bytelines, "READ_BYTES", 3)
    rng = random.Random(seed)
    pieces = [b"a", b",", b"\r", b"\n", b"\r\n", "é".encode(), "€".encode(), b'"', b"1"]
    for _ in range(2000):
        data = (b"\xef\xbb\xbf" if rng.random() < 0.3 else b"") + \
            b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 30)))
        limit = rng.randint(1, 6)
        text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
        lines = ByteLines(io.BytesIO(data))
        while True:
            want = text.readline(limit)
            assert lines.readline(limit) == want, (data, limit)
            if not want:
                break


def test_read_ahead_keeps_order_raises_where_it_failed_and_stops_when_closed():
    assert list(read_ahead(iter(range(100)), depth=2)) == list(range(100))

    def failing():
        yield 1
        raise UsageError("bad input")

    got = []
    with pytest.raises(UsageError, match="bad input"):
        for item in read_ahead(failing()):
            got.append(item)
    assert got == [1]
    made = []

    def endless():
        while True:
            made.append(len(made))
            yield made[-1]

    ahead = read_ahead(endless())
    assert next(ahead) == 0
    ahead.close()
    count = len(made)
    assert count <= 4 and len(made) == count


def test_a_line_is_plain_only_where_the_writer_leaves_its_fields_as_they_are():
    from batch_classifier.inference.cities.plainlines import Layout, sort_lines

    characters = [chr(code) for code in [*range(0x300), 0x2028, 0x2029, 0xFEFF]]
    for delimiter in ",;\t|":
        layout = Layout(delimiter.encode(), 3, 1, 2, 1 << 20, 1 << 16)
        for character in characters:
            if character in "\n\r" + delimiter:
                continue
            field = f"a{character}b"
            line = f"{field}{delimiter}48.85{delimiter}2.35\n".encode()
            if len(sort_lines(line, 0, True, layout)):
                assert csv_record([field]) == field + "\n" or character == ",", \
                    (delimiter, hex(ord(character)))
