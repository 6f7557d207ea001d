"""The class chart as SVG, drawn for a projector: 16:9, large type, high contrast.

One bar per private number, coloured by band (a colour-blind-safe palette, and every band
named in the legend with its count), the benchmark as a dashed line, each student's score
from the previous meeting as a dark tick on the bar. No name or id is ever drawn.
"""

from __future__ import annotations

import math
from xml.sax.saxutils import escape, quoteattr

from aptt_data import i18n
from aptt_data.i18n import Words
from aptt_data.service.report_views import ClassReport

WIDTH, HEIGHT = 1280, 720
LEFT, RIGHT, TOP, BOTTOM = 120, 1240, 200, 590
FONT = "system-ui, 'Segoe UI', Roboto, 'Noto Sans', 'Noto Sans CJK SC', Arial, sans-serif"
COLOURS = {"well_below": "#b2182b", "below": "#ef8a62", "at": "#67a9cf", "above": "#2166ac"}
INK = "#1a1a1a"


# In a right-to-left chart a text's start is its right end: swapping the anchors keeps every
# label where the layout puts it while the words inside run right to left.
_RTL_ANCHOR = {"start": "end", "end": "start", "middle": "middle"}


def _text(w: Words, x: float, y: float, content: str, size: float, **attrs: str) -> str:
    if w.direction == "rtl":
        attrs["text_anchor"] = _RTL_ANCHOR[attrs.get("text_anchor", "start")]
    extra = "".join(f" {k.replace('_', '-')}={quoteattr(v)}" for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:.0f}"{extra}>{escape(content)}</text>'


def _nice_max(value: float) -> float:
    if value <= 0:
        return 10.0
    magnitude = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def render(report: ClassReport, *, skill_name: str, unit: str, language: str) -> str:
    w = i18n.words_for(language)
    grade = report.grade
    grade_text = w.text(i18n.KINDERGARTEN) if grade == 0 else w.text(i18n.GRADE, grade=grade)
    title = w.text(i18n.TITLE, skill=skill_name)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" lang="{w.language}" '
        f'direction="{w.direction}" '
        f"font-family={quoteattr(FONT)}>",
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        _text(w, LEFT, 70, title, 44, font_weight="700", fill=INK),
        _text(w, LEFT, 115, w.text(i18n.SUBTITLE, unit=unit), 26, fill="#444444"),
    ]
    if report.suppressed or report.benchmark is None:
        first = (
            w.text(i18n.TOO_FEW, n=report.min_group_size or 5)
            if report.suppressed_reason == "too-few-scores"
            else w.text(i18n.NO_BENCHMARK)
        )
        no_chart = w.text(i18n.NO_CHART)
        parts.append(_text(w, WIDTH / 2, 360, first, 36, text_anchor="middle", fill=INK))
        parts.append(_text(w, WIDTH / 2, 420, no_chart, 30, text_anchor="middle", fill="#444444"))
        parts.append("</svg>")
        return "\n".join(parts)

    bars = report.bars
    benchmark = report.benchmark
    values = [b.score for b in bars if b.score is not None]
    values += [b.previous_score for b in bars if b.previous_score is not None]
    top = _nice_max(max([benchmark * 1.2, *values]))
    height = BOTTOM - TOP

    def y_of(value: float) -> float:
        return BOTTOM - height * min(value, top) / top

    for i in range(6):
        value = top * i / 5
        y = y_of(value)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{RIGHT}" y2="{y:.1f}" stroke="#dddddd"/>')
        parts.append(_text(w, LEFT - 12, y + 8, w.number(value), 22, text_anchor="end", fill=INK))

    slot = (RIGHT - LEFT) / max(len(bars), 1)
    bar_width = slot * 0.72
    label_size = max(14.0, min(30.0, slot * 0.55))
    for index, bar in enumerate(bars):
        x = LEFT + slot * index + (slot - bar_width) / 2
        centre = x + bar_width / 2
        parts.append(
            _text(
                w,
                centre,
                BOTTOM + 38,
                str(bar.number),
                label_size + 2,
                text_anchor="middle",
                font_weight="700",
                fill=INK,
            )
        )
        if bar.score is None or bar.band is None:
            parts.append(
                f'<rect x="{x:.1f}" y="{BOTTOM - 4}" width="{bar_width:.1f}" height="4" '
                'fill="#999999">'
                f"<title>{escape(w.text(i18n.NO_SCORE))}</title></rect>"
            )
            continue
        y = y_of(bar.score)
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_width:.1f}" height="{BOTTOM - y:.1f}" '
            f'fill="{COLOURS[bar.band]}"/>'
        )
        parts.append(
            _text(
                w,
                centre,
                y - 8,
                w.number(bar.score),
                label_size,
                text_anchor="middle",
                fill=INK,
            )
        )
        if bar.previous_score is not None:
            py = y_of(bar.previous_score)
            parts.append(
                f'<line x1="{x:.1f}" y1="{py:.1f}" x2="{x + bar_width:.1f}" y2="{py:.1f}" '
                f'stroke="{INK}" stroke-width="5"/>'
            )

    by = y_of(benchmark)
    parts.append(
        f'<line x1="{LEFT}" y1="{by:.1f}" x2="{RIGHT}" y2="{by:.1f}" stroke="{INK}" '
        'stroke-width="4" stroke-dasharray="18 10"/>'
    )
    season = i18n.SEASONS.get(report.season or "")
    label = w.text(
        i18n.BENCHMARK,
        grade=grade_text,
        season=w.text(season) if season else "",
        value=w.number(benchmark),
    )
    # The benchmark's label sits in a key above the plot, never over the bars it would hide.
    key_y = 160
    parts.append(
        f'<line x1="{LEFT}" y1="{key_y - 9}" x2="{LEFT + 56}" y2="{key_y - 9}" stroke="{INK}" '
        'stroke-width="4" stroke-dasharray="18 10"/>'
    )
    parts.append(_text(w, LEFT + 68, key_y, label, 26, font_weight="700", fill=INK))
    parts.extend(_legend(report, w))
    parts.append("</svg>")
    return "\n".join(parts)


def _legend(report: ClassReport, w: Words) -> list[str]:
    parts = []
    x = LEFT
    y = HEIGHT - 62
    for band in ("well_below", "below", "at", "above"):
        count = report.bands.get(band, 0)
        parts.append(f'<rect x="{x}" y="{y - 22}" width="26" height="26" fill="{COLOURS[band]}"/>')
        label = f"{w.text(i18n.BANDS[band])}: {count}"
        parts.append(_text(w, x + 34, y, label, 24, fill=INK))
        x += 34 + 13 * len(label) + 28
    y += 40
    x = LEFT
    if any(bar.previous_score is not None for bar in report.bars):
        parts.append(
            f'<line x1="{x}" y1="{y - 9}" x2="{x + 34}" y2="{y - 9}" '
            f'stroke="{INK}" stroke-width="5"/>'
        )
        previous = w.text(i18n.PREVIOUS)
        parts.append(_text(w, x + 44, y, previous, 24, fill=INK))
        x += 44 + 13 * len(previous) + 40
    median = report.growth.median
    if median is not None:
        parts.append(_text(w, x, y, w.text(i18n.GROWTH, value=w.signed(median)), 24, fill=INK))
    return parts
