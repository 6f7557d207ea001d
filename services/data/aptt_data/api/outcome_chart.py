"""The attendance chart as SVG, in the class chart's style (16:9, large type, high
contrast): one bar per row (a classroom's meetings, a school's classrooms, the district's
schools) with its rate, the 92% reference as a dashed line, bars at or above it dark blue and
below it orange (a colour-blind-safe pair, both named in the legend), a withheld row as a
grey stub with its reason. Rows are numbered, never named."""

from __future__ import annotations

from xml.sax.saxutils import escape

from babel.numbers import format_percent

from aptt_data import i18n
from aptt_data.api.chart import FONT, HEIGHT, INK, WIDTH, _text
from aptt_data.domain.outcomes import AttendanceFigures

LEFT, RIGHT, TOP, BOTTOM = 120, 1240, 200, 590
AT_OR_ABOVE, BELOW, WITHHELD = "#2166ac", "#ef8a62", "#999999"
MAX_BARS = 40


def render(found: AttendanceFigures, *, school_year: str, language: str | None) -> tuple[str, str]:
    """The chart and the language it is written in."""
    w = i18n.words_for(language)

    def percent(value: float) -> str:
        return format_percent(value, locale=w.locale)

    title = w.text(i18n.OUTCOME_TITLE, year=school_year)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" lang="{w.language}" '
        f'direction="{w.direction}" font-family="{escape(FONT)}">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        _text(w, LEFT, 70, title, 44, font_weight="700", fill=INK),
    ]
    if found.suppressed:
        parts.append(
            _text(
                w, WIDTH / 2, 360, w.text(i18n.OUTCOME_TOO_FEW), 34, text_anchor="middle", fill=INK
            )
        )
        parts.append("</svg>")
        return "\n".join(parts), w.language

    def y_of(value: float) -> float:
        return BOTTOM - (BOTTOM - TOP) * min(value, 1.0)

    for step in range(6):
        y = y_of(step / 5)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{RIGHT}" y2="{y:.1f}" stroke="#dddddd"/>')
        parts.append(_text(w, LEFT - 12, y + 8, percent(step / 5), 22, text_anchor="end", fill=INK))
    rows = found.rows[:MAX_BARS]
    slot = (RIGHT - LEFT) / max(len(rows), 1)
    width = slot * 0.7
    for index, row in enumerate(rows):
        x = LEFT + slot * index + (slot - width) / 2
        centre = x + width / 2
        parts.append(
            _text(w, centre, BOTTOM + 36, str(index + 1), 24, text_anchor="middle", fill=INK)
        )
        if row.rate is None:
            withheld = w.text(i18n.OUTCOME_WITHHELD, n=found.minimum)
            parts.append(
                f'<rect x="{x:.1f}" y="{BOTTOM - 4}" width="{width:.1f}" height="4" '
                f'fill="{WITHHELD}"><title>{escape(withheld)}</title></rect>'
            )
            continue
        colour = AT_OR_ABOVE if row.rate >= found.reference_rate else BELOW
        y = y_of(row.rate)
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{BOTTOM - y:.1f}" '
            f'fill="{colour}"/>'
        )
        parts.append(_text(w, centre, y - 8, percent(row.rate), 22, text_anchor="middle", fill=INK))
    ry = y_of(found.reference_rate)
    parts.append(
        f'<line x1="{LEFT}" y1="{ry:.1f}" x2="{RIGHT}" y2="{ry:.1f}" stroke="{INK}" '
        'stroke-width="4" stroke-dasharray="18 10"/>'
    )
    key_y = 150
    parts.append(
        f'<line x1="{LEFT}" y1="{key_y - 9}" x2="{LEFT + 56}" y2="{key_y - 9}" stroke="{INK}" '
        'stroke-width="4" stroke-dasharray="18 10"/>'
    )
    reference = w.text(i18n.OUTCOME_REFERENCE, rate=percent(found.reference_rate))
    parts.append(_text(w, LEFT + 68, key_y, reference, 26, font_weight="700", fill=INK))
    x, y = LEFT, HEIGHT - 50
    for colour, label in (
        (AT_OR_ABOVE, w.text(i18n.OUTCOME_AT_OR_ABOVE)),
        (BELOW, w.text(i18n.OUTCOME_BELOW)),
        (WITHHELD, w.text(i18n.OUTCOME_WITHHELD, n=found.minimum)),
    ):
        parts.append(f'<rect x="{x}" y="{y - 22}" width="26" height="26" fill="{colour}"/>')
        parts.append(_text(w, x + 34, y, label, 24, fill=INK))
        x += 34 + 13 * len(label) + 40
    parts.append("</svg>")
    return "\n".join(parts), w.language
