"""A binary input read as text lines, exactly as open(..., encoding="utf-8-sig",
errors="surrogateescape", newline="") reads them, that also lends the undecoded bytes
ahead to a fast path."""

from __future__ import annotations

import codecs
import re
from typing import BinaryIO

BOM = b"\xef\xbb\xbf"
READ_BYTES = 1 << 22
_NEWLINE = re.compile(rb"\r\n?|\n")
_MAX_UTF8_BYTES = 4  # per character
_CR = 13


class ByteLines:
    """`readline(limit)` returns what a text stream with universal newline splitting
    (no translation) returns: up to `limit` characters, ending at '\\n', '\\r\\n' or a
    lone '\\r'; bytes that are not UTF-8 come as surrogate escapes. A leading BOM is
    dropped.

    `window()` and `advance()` give a fast path the raw bytes from the current position.
    """

    def __init__(self, raw: BinaryIO):
        self._raw = raw
        self._read = getattr(raw, "read1", raw.read)  # read1: what a pipe has, no waiting
        self._buffer = b""
        self._pos = 0
        self._eof = False
        self.refills = 0  # changes whenever the buffer (and so its offsets) changes
        while len(self._buffer) < len(BOM) and not self._eof:
            self._fill(len(BOM))
        if self._buffer.startswith(BOM):
            self._pos = len(BOM)

    def close(self) -> None:
        """Close the underlying stream."""
        self._raw.close()

    def _fill(self, wanted: int) -> None:
        """Read until `wanted` bytes lie ahead of the position or the input ends, or,
        from a pipe, until a short read has brought a whole line (never wait for more
        than the caller needs to go on)."""
        parts = [self._buffer[self._pos:]]
        ahead = len(parts[0])
        if ahead < wanted and not self._eof:  # drop what lies behind before reading more
            self._buffer, self._pos = b"", 0
            self.refills += 1
        while ahead < wanted and not self._eof:
            more = self._read(READ_BYTES)
            self._eof = not more
            parts.append(more)
            ahead += len(more)
            if len(more) < READ_BYTES and b"\n" in more:
                break
        if len(parts) > 1:
            self._buffer, self._pos = b"".join(parts), 0

    def window(self, wanted: int = READ_BYTES) -> tuple[bytes, int, bool]:
        """(buffer, position, at end of input): the bytes ahead, `wanted` of them if the
        input has them at hand."""
        if len(self._buffer) - self._pos < wanted:
            self._fill(wanted)
        return self._buffer, self._pos, self._eof

    def advance(self, count: int) -> None:
        """Pass over `count` bytes of the window (whole lines a fast path consumed)."""
        self._pos += count

    def readline(self, limit: int) -> str:
        """The next line, or at most `limit` characters of it; '' at the end."""
        span = limit * _MAX_UTF8_BYTES + 2  # enough bytes for `limit` characters and more
        while True:
            buffer, pos, eof = self._buffer, self._pos, self._eof
            found = _NEWLINE.search(buffer, pos, pos + span)
            open_ended = found is None or (  # or a CR that an LF may yet follow
                found.end() == len(buffer) and found.end() - found.start() == 1
                and buffer[found.start()] == _CR)
            if open_ended and not eof and len(buffer) - pos < span:
                ahead = len(buffer) - pos
                del buffer  # so that _fill can let the bytes behind go
                self._fill(ahead + 1)
                continue
            end = found.end() if found is not None else min(len(buffer), pos + span)
            text = _decode_prefix(buffer[pos:end], complete=found is not None or eof)
            if len(text) > limit:  # a lone CR ending the search can only be cut off here
                text = text[:limit]
                end = pos + len(text.encode("utf-8", "surrogateescape"))
            self._pos = end
            return text


def _decode_prefix(data: bytes, complete: bool) -> str:
    """Decode `data` (bytes that are not UTF-8 as surrogate escapes); when it may end
    inside a character (`complete` False), decode up to that character."""
    return codecs.getincrementaldecoder("utf-8")("surrogateescape").decode(data, complete)
