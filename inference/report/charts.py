"""Charts as inline SVG text: a histogram with marked values and a shaded band,
horizontal bars, and a world map of points. Every label goes through `escape`."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from batch_classifier.inference.report.land import land_path
from batch_classifier.inference.report.stream import Histogram

WIDTH, HEIGHT, MARGIN = 640, 220, 40


def histogram_svg(histogram: Histogram, label: str, marks: Sequence[tuple[float, str]] = (),
                  band: tuple[float, float] | None = None) -> str:
    """Bars of `histogram` over its range, `marks` as labelled vertical lines and `band`
    as a shaded span; `label` names the x axis."""
    low, high = float(histogram.edges[0]), float(histogram.edges[-1])
    plot_w, plot_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN

    def x_of(value: float) -> float:
        return MARGIN + (value - low) / (high - low) * plot_w

    top = max(int(histogram.counts.max()), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'class="chart" role="img" aria-label="{escape(label)} histogram">']
    if band:
        parts.append(f'<rect class="band" x="{x_of(band[0]):.1f}" y="{MARGIN}" '
                     f'width="{x_of(band[1]) - x_of(band[0]):.1f}" height="{plot_h}"/>')
    bar_w = plot_w / len(histogram.counts)
    for i, count in enumerate(histogram.counts.tolist()):
        height = count / top * plot_h
        parts.append(f'<rect class="bar" x="{MARGIN + i * bar_w + 0.5:.1f}" '
                     f'y="{MARGIN + plot_h - height:.1f}" width="{bar_w - 1:.1f}" '
                     f'height="{height:.1f}"><title>{histogram.edges[i]:.2f}-'
                     f'{histogram.edges[i + 1]:.2f}: {count}</title></rect>')
    for value, name in marks:
        x = x_of(value)
        parts.append(f'<line class="mark" x1="{x:.1f}" x2="{x:.1f}" y1="{MARGIN - 8}" '
                     f'y2="{MARGIN + plot_h}"/><text x="{x + 3:.1f}" y="{MARGIN - 10}">'
                     f'{escape(name)}</text>')
    axis_y = MARGIN + plot_h
    parts.append(f'<line class="axis" x1="{MARGIN}" x2="{WIDTH - MARGIN}" y1="{axis_y}" '
                 f'y2="{axis_y}"/>')
    for value in (low, (low + high) / 2, high):
        parts.append(f'<text x="{x_of(value):.1f}" y="{axis_y + 14}" text-anchor="middle">'
                     f'{value:g}</text>')
    parts.append(f'<text x="{WIDTH / 2}" y="{HEIGHT - 6}" text-anchor="middle">'
                 f'{escape(label)}</text><text x="4" y="{MARGIN - 10}">max {top}</text></svg>')
    return "".join(parts)


def bars_svg(items: Sequence[tuple[str, int]]) -> str:
    """One horizontal bar per (name, count), the longest full width."""
    row_h, name_w, count_w = 18, 220, 80
    top = max([count for _, count in items] or [1]) or 1
    height = row_h * len(items) + 4
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
             f'class="chart bars" role="img">']
    for i, (name, count) in enumerate(items):
        y = i * row_h + 2
        width = count / top * (WIDTH - name_w - count_w)
        parts.append(f'<text x="{name_w - 6}" y="{y + 13}" text-anchor="end">'
                     f'{escape(name[:40])}</text><rect class="bar" x="{name_w}" y="{y + 2}" '
                     f'width="{width:.1f}" height="{row_h - 4}"/>'
                     f'<text x="{name_w + width + 4:.1f}" y="{y + 13}">{count:,}</text>')
    parts.append("</svg>")
    return "".join(parts)


def world_map_svg(points: Sequence[tuple[float, float, bool]]) -> str:
    """The land outline and one dot per (lat, lon, classified) point: classified ones
    in one colour, the rest (no country) in another."""
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 360 180" class="map" '
             'role="img" aria-label="world map of the sampled points">'
             '<rect class="sea" width="360" height="180"/>'
             f'<path class="land" d="{land_path()}"/>']
    for classified in (True, False):
        dots = "".join(f'<circle cx="{lon + 180:.2f}" cy="{90 - lat:.2f}" r="0.6"/>'
                       for lat, lon, ok in points if ok is classified)
        parts.append(f'<g class="{"ok" if classified else "failed"}">{dots}</g>')
    parts.append("</svg>")
    return "".join(parts)
