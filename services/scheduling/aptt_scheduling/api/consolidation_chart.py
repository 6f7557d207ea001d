"""The consolidated year as SVG, in the class chart's style: 16:9, large type, high contrast,
a colour-blind-safe pair (dark blue for linked, orange for not linked, and the counts in the
legend), the aim of one event a month as a dashed line, crowded months named above the bar."""

from __future__ import annotations

from datetime import date
from xml.sax.saxutils import escape, quoteattr

from babel import Locale
from babel.dates import format_date

from aptt_scheduling import i18n
from aptt_scheduling.domain.family_events import Consolidation

WIDTH, HEIGHT = 1280, 720
LEFT, RIGHT, TOP, BOTTOM = 120, 1240, 200, 590
FONT = "system-ui, 'Segoe UI', Roboto, 'Noto Sans', 'Noto Sans CJK SC', Arial, sans-serif"
LINKED, UNLINKED, INK = "#2166ac", "#ef8a62", "#1a1a1a"


def _text(x: float, y: float, content: str, size: float, **attrs: str) -> str:
    extra = "".join(f" {k.replace('_', '-')}={quoteattr(v)}" for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:.0f}"{extra}>{escape(content)}</text>'


def render(view: Consolidation, *, language: str) -> str:
    def t(msgid: str, **values: object) -> str:
        return i18n.CATALOGUES.gettext(msgid, language).format(**values)

    title = t(i18n.CONSOLIDATION_TITLE, year=view.school_year)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" lang="{language}" '
        f"font-family={quoteattr(FONT)}>",
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        _text(LEFT, 70, title, 44, font_weight="700", fill=INK),
        _text(LEFT, 115, t(i18n.CONSOLIDATION_SUBTITLE, aim=view.aim), 26, fill="#444444"),
    ]
    top = max(4, *(m.total + 1 for m in view.months))
    height = BOTTOM - TOP

    def y_of(value: float) -> float:
        return BOTTOM - height * value / top

    for value in range(top + 1):
        y = y_of(value)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{RIGHT}" y2="{y:.1f}" stroke="#dddddd"/>')
        parts.append(_text(LEFT - 12, y + 8, str(value), 22, text_anchor="end", fill=INK))
    slot = (RIGHT - LEFT) / len(view.months)
    width = slot * 0.7
    locale = Locale.parse(language)
    for index, month in enumerate(view.months):
        x = LEFT + slot * index + (slot - width) / 2
        centre = x + width / 2
        year, number = (int(p) for p in month.month.split("-"))
        label = format_date(date(year, number, 1), "MMM", locale=locale)
        parts.append(_text(centre, BOTTOM + 36, label, 24, text_anchor="middle", fill=INK))
        linked_top = y_of(month.linked)
        parts.append(
            f'<rect x="{x:.1f}" y="{linked_top:.1f}" width="{width:.1f}" '
            f'height="{BOTTOM - linked_top:.1f}" fill="{LINKED}"/>'
        )
        total_top = y_of(month.total)
        parts.append(
            f'<rect x="{x:.1f}" y="{total_top:.1f}" width="{width:.1f}" '
            f'height="{linked_top - total_top:.1f}" fill="{UNLINKED}"/>'
        )
        if month.total:
            parts.append(
                _text(centre, total_top - 8, str(month.total), 24, text_anchor="middle", fill=INK)
            )
        if month.crowded:
            parts.append(
                _text(
                    centre,
                    total_top - 36,
                    t(i18n.CROWDED),
                    20,
                    text_anchor="middle",
                    font_weight="700",
                    fill=INK,
                )
            )
    aim_y = y_of(1)
    parts.append(
        f'<line x1="{LEFT}" y1="{aim_y:.1f}" x2="{RIGHT}" y2="{aim_y:.1f}" stroke="{INK}" '
        'stroke-width="4" stroke-dasharray="18 10"/>'
    )
    parts.extend(_legend(view, t(i18n.LINKED, n=view.linked), t(i18n.UNLINKED, n=view.unlinked)))
    key_y = 160
    parts.append(
        f'<line x1="{LEFT}" y1="{key_y - 9}" x2="{LEFT + 56}" y2="{key_y - 9}" stroke="{INK}" '
        'stroke-width="4" stroke-dasharray="18 10"/>'
    )
    parts.append(_text(LEFT + 68, key_y, t(i18n.AIM_LINE), 26, font_weight="700", fill=INK))
    parts.append("</svg>")
    return "\n".join(parts)


def _legend(view: Consolidation, linked: str, unlinked: str) -> list[str]:
    parts, x, y = [], LEFT, HEIGHT - 50
    for colour, label in ((LINKED, linked), (UNLINKED, unlinked)):
        parts.append(f'<rect x="{x}" y="{y - 22}" width="26" height="26" fill="{colour}"/>')
        parts.append(_text(x + 34, y, label, 24, fill=INK))
        x += 34 + 13 * len(label) + 40
    return parts
