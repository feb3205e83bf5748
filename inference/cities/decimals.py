"""Plain decimal numbers parsed straight from bytes, many fields at once, to exactly the
float64 that Python's float() gives for the same text.

Plain means `-?D+` or `-?D+.D+` (ASCII digits; ',' may stand for '.'), at most 15 digits.
Every such text is accepted by the careful parser too, with the same value: an integer
below 2**53 divided by an exact power of ten is correctly rounded, as float() is. Any
other text (signs, spaces, exponents, more digits, other characters) is left to the
careful parser, which decides what it means.
"""

from __future__ import annotations

import numpy as np

MAX_DIGITS = 15
MAX_CHARS = MAX_DIGITS + 2  # a sign and a decimal point
_POWERS = 10 ** np.arange(MAX_CHARS + 1, dtype=np.int64)
_SCALES = np.array([float(10**k) for k in range(MAX_CHARS + 1)])
_ZERO, _NINE, _MINUS, _POINT, _COMMA = b"09-.,"


def parse_decimals(data: np.ndarray, starts: np.ndarray,
                   ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parse the fields data[starts[i]:ends[i]] of a uint8 buffer.

    Returns (values, plain): values as float64 where plain is True, NaN elsewhere.
    """
    lengths = ends - starts
    columns = np.arange(MAX_CHARS)
    inside = columns < lengths[:, None]
    chars = np.where(inside, data.take(starts[:, None] + columns, mode="clip"), 0)
    minus = chars[:, 0] == _MINUS
    digit = (chars >= _ZERO) & (chars <= _NINE)
    point = (chars == _POINT) | (chars == _COMMA)
    points = point.sum(1)
    point_at = np.where(points == 1, point.argmax(1), lengths)
    digits = digit.sum(1)
    plain = ((lengths > 0) & (lengths <= MAX_CHARS) & (points <= 1)
             & (digits + points + minus == lengths)  # nothing but digits, one point, a sign
             & (point_at > minus)  # a digit before the point, after the sign
             & ((points == 0) | (point_at < lengths - 1))  # and one after the point
             & (digits <= MAX_DIGITS))
    to_the_right = np.cumsum(digit[:, ::-1], axis=1)[:, ::-1] - digit
    mantissa = np.where(digit, (chars - _ZERO) * _POWERS[to_the_right], 0).sum(1)
    decimals = np.where(points == 1, lengths - 1 - point_at, 0).clip(0, MAX_CHARS)
    values = mantissa / _SCALES[decimals]
    values = np.where(minus, -values, values)
    return np.where(plain, values, np.nan), plain
