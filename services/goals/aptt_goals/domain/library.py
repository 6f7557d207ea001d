"""The home-activity library: built-in activities per skill and grade, and a district's own.

Built-in activities are short enough to read on a phone, in plain words, in English and
Spanish. A district's teachers add more (stored by the service); both are listed together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

ActivitySource = Literal["built-in", "district"]
Frequency = Literal["day", "week"]


@dataclass(frozen=True)
class LibraryActivity:
    code: str
    skill_code: str
    grades: tuple[int, ...]
    title: Mapping[str, str]
    instructions: Mapping[str, str]
    times: int | None = None
    per: Frequency | None = None
    minutes: int | None = None
    source: ActivitySource = "built-in"
    created_by: str | None = field(default=None, compare=False)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.title) & set(self.instructions)))

    def matches(
        self, *, skill_code: str | None = None, grade: int | None = None, lang: str | None = None
    ) -> bool:
        return (
            (skill_code is None or self.skill_code == skill_code)
            and (grade is None or grade in self.grades)
            and (lang is None or lang in self.languages)
        )


def _built_in(
    code: str,
    skill_code: str,
    grades: range,
    title: tuple[str, str],
    instructions: tuple[str, str],
    frequency: tuple[int, Frequency, int],
) -> LibraryActivity:
    times, per, minutes = frequency
    return LibraryActivity(
        code=code,
        skill_code=skill_code,
        grades=tuple(grades),
        title={"en": title[0], "es": title[1]},
        instructions={"en": instructions[0], "es": instructions[1]},
        times=times,
        per=per,
        minutes=minutes,
    )


BUILT_IN_ACTIVITIES: tuple[LibraryActivity, ...] = (
    _built_in(
        "orf-read-aloud",
        "orf",
        range(1, 6),
        ("Read aloud together", "Leer en voz alta juntos"),
        (
            "Your child reads a book aloud to you. Help with hard words, "
            "then ask what happened in the story.",
            "Su hijo le lee un libro en voz alta. Ayúdele con las palabras difíciles "
            "y luego pregúntele qué pasó en el cuento.",
        ),
        (5, "week", 20),
    ),
    _built_in(
        "orf-echo-reading",
        "orf",
        range(1, 4),
        ("Echo reading", "Lectura en eco"),
        (
            "You read one sentence with feeling. Your child reads the same sentence back "
            "the same way. Do a whole page like this.",
            "Usted lee una oración con expresión. Su hijo repite la misma oración de la "
            "misma forma. Hagan así una página entera.",
        ),
        (5, "week", 10),
    ),
    _built_in(
        "orf-repeated-reading",
        "orf",
        range(1, 6),
        ("Read it three times", "Leerlo tres veces"),
        (
            "Pick a short page. Your child reads it aloud three times. Count the words "
            "read in one minute each time and cheer every gain.",
            "Escojan una página corta. Su hijo la lee en voz alta tres veces. Cuenten las "
            "palabras leídas en un minuto cada vez y celebren cada avance.",
        ),
        (4, "week", 10),
    ),
    _built_in(
        "orf-word-cards",
        "orf",
        range(1, 3),
        ("Word cards", "Tarjetas de palabras"),
        (
            "Write ten common words on cards. Your child reads each card quickly. "
            "Keep the missed cards for tomorrow.",
            "Escriba diez palabras comunes en tarjetas. Su hijo lee cada tarjeta rápido. "
            "Guarden las tarjetas falladas para mañana.",
        ),
        (5, "week", 10),
    ),
    _built_in(
        "orf-take-turns",
        "orf",
        range(3, 6),
        ("Take turns reading", "Leer por turnos"),
        (
            "You and your child take turns reading a page each of a chapter book. "
            "Talk about the story at the end.",
            "Usted y su hijo se turnan para leer una página cada uno de un libro por "
            "capítulos. Al final hablen del cuento.",
        ),
        (4, "week", 20),
    ),
    _built_in(
        "math-facts-flash-cards",
        "math-facts",
        range(1, 6),
        ("Fact flash cards", "Tarjetas de operaciones"),
        (
            "Make cards with the facts your child is learning, like 7 + 5 or 6 x 4. "
            "Your child says the answer fast. Missed cards go back in the pile.",
            "Haga tarjetas con las operaciones que su hijo está aprendiendo, como 7 + 5 o "
            "6 x 4. Su hijo dice la respuesta rápido. Las falladas vuelven al montón.",
        ),
        (5, "week", 10),
    ),
    _built_in(
        "math-facts-dice",
        "math-facts",
        range(1, 4),
        ("Dice facts", "Operaciones con dados"),
        (
            "Roll two dice and add the numbers (in grade 3, multiply them). "
            "Whoever says the answer first gets a point.",
            "Tiren dos dados y sumen los números (en 3.er grado, multiplíquenlos). "
            "Quien diga primero la respuesta gana un punto.",
        ),
        (4, "week", 10),
    ),
    _built_in(
        "math-facts-doubles",
        "math-facts",
        range(1, 3),
        ("Doubles and near doubles", "Dobles y casi dobles"),
        (
            "Practise doubles like 4 + 4 and 6 + 6, then near doubles like 4 + 5 and "
            "6 + 7. Ask how the double helps.",
            "Practiquen los dobles como 4 + 4 y 6 + 6, y luego los casi dobles como 4 + 5 "
            "y 6 + 7. Pregunte cómo ayuda el doble.",
        ),
        (5, "week", 10),
    ),
    _built_in(
        "math-facts-one-minute",
        "math-facts",
        range(2, 6),
        ("One-minute fact race", "Carrera de un minuto"),
        (
            "Set a timer for one minute. Your child answers as many written facts as "
            "possible. Write down the score and try to beat it next time.",
            "Ponga un temporizador de un minuto. Su hijo responde todas las operaciones "
            "escritas que pueda. Anoten el resultado e intenten superarlo la próxima vez.",
        ),
        (3, "week", 5),
    ),
    _built_in(
        "math-facts-card-war",
        "math-facts",
        range(3, 6),
        ("Multiplication war", "Guerra de multiplicaciones"),
        (
            "Play with a deck of cards. Each player turns over two cards and multiplies "
            "them. The bigger answer wins the cards.",
            "Jueguen con una baraja. Cada jugador voltea dos cartas y las multiplica. "
            "La respuesta más grande se lleva las cartas.",
        ),
        (3, "week", 15),
    ),
)

BUILT_IN_BY_CODE: dict[str, LibraryActivity] = {a.code: a for a in BUILT_IN_ACTIVITIES}
