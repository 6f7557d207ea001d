"""The class chart's words, in the languages families in our districts speak most.

A language not here falls back to English; skill names come from the skill itself.
"""

from __future__ import annotations

from typing import Any

from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal

TEXTS: dict[str, dict[str, Any]] = {
    "en": {
        "title": "{skill}: our class",
        "subtitle": "{unit} · each bar is one student's private number",
        "benchmark": "{grade} benchmark ({season}): {value}",
        "grade": "Grade {grade}",
        "kindergarten": "Kindergarten",
        "seasons": {"fall": "fall", "winter": "winter", "spring": "spring"},
        "bands": {
            "well_below": "Well below",
            "below": "Below",
            "at": "At benchmark",
            "above": "Above",
        },
        "previous": "last meeting",
        "no_score": "no score yet",
        "too_few": "Fewer than {n} students have a score yet.",
        "no_benchmark": "This skill has no benchmark for this grade and season.",
        "no_chart": "No chart, so that no student can be recognised.",
        "growth": "Median growth since last meeting: {value}",
    },
    "es": {
        "title": "{skill}: nuestra clase",
        "subtitle": "{unit} · cada barra es el número privado de un estudiante",
        "benchmark": "Meta de {grade} ({season}): {value}",
        "grade": "grado {grade}",
        "kindergarten": "kínder",
        "seasons": {"fall": "otoño", "winter": "invierno", "spring": "primavera"},
        "bands": {
            "well_below": "Muy por debajo",
            "below": "Por debajo",
            "at": "En la meta",
            "above": "Por encima",
        },
        "previous": "reunión anterior",
        "no_score": "aún sin puntaje",
        "too_few": "Menos de {n} estudiantes tienen puntaje todavía.",
        "no_benchmark": "Esta habilidad no tiene meta para este grado y temporada.",
        "no_chart": "No se muestra la gráfica para que nadie pueda ser reconocido.",
        "growth": "Crecimiento medio desde la reunión anterior: {value}",
    },
    "vi": {
        "title": "{skill}: lớp chúng ta",
        "subtitle": "{unit} · mỗi cột là số riêng của một học sinh",
        "benchmark": "Mức chuẩn {grade} ({season}): {value}",
        "grade": "lớp {grade}",
        "kindergarten": "mẫu giáo",
        "seasons": {"fall": "mùa thu", "winter": "mùa đông", "spring": "mùa xuân"},
        "bands": {
            "well_below": "Thấp hơn nhiều",
            "below": "Thấp hơn",
            "at": "Đạt chuẩn",
            "above": "Cao hơn",
        },
        "previous": "buổi họp trước",
        "no_score": "chưa có điểm",
        "too_few": "Chưa đủ {n} học sinh có điểm.",
        "no_benchmark": "Kỹ năng này chưa có mức chuẩn cho lớp và mùa này.",
        "no_chart": "Không hiển thị biểu đồ để không ai bị nhận ra.",
        "growth": "Mức tiến bộ trung vị từ buổi họp trước: {value}",
    },
    "zh": {
        "title": "{skill}：我们的班级",  # noqa: RUF001
        "subtitle": "{unit} · 每个柱子代表一名学生的私人号码",
        "benchmark": "{grade}基准（{season}）：{value}",  # noqa: RUF001
        "grade": "{grade}年级",
        "kindergarten": "幼儿园",
        "seasons": {"fall": "秋季", "winter": "冬季", "spring": "春季"},
        "bands": {"well_below": "远低于", "below": "低于", "at": "达到基准", "above": "高于"},
        "previous": "上次会议",
        "no_score": "暂无分数",
        "too_few": "有分数的学生少于{n}名。",
        "no_benchmark": "该技能在本年级和本季节没有基准。",
        "no_chart": "为避免识别出任何学生，不显示图表。",  # noqa: RUF001
        "growth": "自上次会议以来的增长中位数：{value}",  # noqa: RUF001
    },
}


def texts_for(language: str) -> tuple[str, dict[str, Any]]:
    """The language actually used (its base tag) and its texts."""
    base = language.split("-")[0].lower()
    if base in TEXTS:
        return base, TEXTS[base]
    return "en", TEXTS["en"]


def number(value: float, language: str) -> str:
    try:
        locale = Locale.parse(language, sep="-")
    except (UnknownLocaleError, ValueError):
        locale = Locale("en")
    return format_decimal(value, format="#,##0.#", locale=locale)


def signed(value: float, language: str) -> str:
    return ("+" if value > 0 else "") + number(value, language)
