"""How one result record is written as text, CSV or JSON Lines, and how its columns are
named so that no two share a name.

Both formats put one record per line as far as any reader can tell: a CSV field holding
a separator, a quote or any control character (CR, NUL, ...; also U+0085, U+2028 and
U+2029, which some readers take for line breaks) is quoted, and JSON escapes them all.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from batch_classifier.inference.errors import UsageError

FORMATS = ("csv", "jsonl", "parquet")  # parquet needs pyarrow (see inference/parquet)
PARQUET_SUFFIXES = (".parquet", ".pq")
COMPRESSED_SUFFIXES = (".gz", ".gzip", ".bz2", ".xz", ".lzma", ".zst", ".zip", ".lz4", ".7z", ".z")
_CSV_QUOTED = re.compile('[",\x00-\x1f\x7f-\x9f\u2028\u2029]')
_JSON_RAW = re.compile("[\x7f-\x9f\u2028\u2029]")  # what json.dumps leaves unescaped


def choose_format(path: str | None, requested: str | None) -> str:
    """The output format: as requested, else from the file extension, else CSV. An output
    named as compressed (out.csv.gz) is refused: it would be written uncompressed."""
    suffix = Path(path).suffix.lower() if path else ""
    if suffix in COMPRESSED_SUFFIXES:
        raise UsageError(f"-o {path}: named as a compressed file ({suffix}), but outputs are "
                         "written uncompressed; name it without the suffix and compress it "
                         "afterwards, or use --format parquet (compressed inside)")
    if requested:
        return requested
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    return "csv"


def csv_record(values: list[Any]) -> str:
    """One CSV record, newline included (None is empty, floats have 6 digits)."""
    cells = [_csv_text(value) for value in values]
    if cells == [""]:
        return '""\n'  # a lone empty field, not a blank line
    return ",".join('"' + cell.replace('"', '""') + '"' if _CSV_QUOTED.search(cell) else cell
                    for cell in cells) + "\n"


def jsonl_record(keys: list[str], values: list[Any]) -> str:
    """One JSON object on one line, newline included."""
    line = json.dumps(dict(zip(keys, values, strict=True)), ensure_ascii=False)
    if _JSON_RAW.search(line):
        line = _JSON_RAW.sub(lambda match: f"\\u{ord(match.group()):04x}", line)
    return line + "\n"


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return value if isinstance(value, str) else str(value)


def unique_names(columns: list[str]) -> list[str]:
    """Column names made unique so JSON objects lose no value: a repeated name becomes
    name_2, name_3, ..., skipping names the columns already have."""
    taken, names, used = set(columns), [], set()
    last_number: dict[str, int] = {}  # per repeated name, so each is found in one pass
    for column in columns:
        name, number = column, last_number.get(column, 1)
        while name in used or (name != column and name in taken):
            number += 1
            name = f"{column}_{number}"
        last_number[column] = number
        names.append(name)
        used.add(name)
    return names


def added_names(existing: list[str], added: list[str]) -> list[str]:
    """Names for columns added after `existing` ones: an added name the input already
    has (in any case) becomes predicted_<name>, then predicted_<name>_2, ..."""
    taken = {name.strip().lower() for name in existing}
    names = []
    for column in added:
        name, number = column, 1
        while name.lower() in taken:
            number += 1
            name = f"predicted_{column}" + (f"_{number - 1}" if number > 2 else "")
        taken.add(name.lower())
        names.append(name)
    return names
