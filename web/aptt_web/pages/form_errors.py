"""A service's refusal of a form, shown on the form in the reader's language.

A service answers a bad body with problem details: a validation problem lists each field it
refused (`errors[].location`, such as `body.on`) with a message written for developers, in
English; a rule of the domain has a stable code (the end of the problem's `type`). A page
shows neither as it came: each form names, from the catalogues, a message for each of its
fields and for each code it expects, and anything else reads as one general message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from aptt_web.services import ServiceProblem


@dataclass
class FormErrors:
    fields: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)


def problem_code(problem: ServiceProblem) -> str:
    kind = str(problem.problem.get("type") or "")
    return kind.rsplit("/", 1)[-1]


def form_errors(
    problem: ServiceProblem,
    *,
    fields: Mapping[str, str],
    codes: Mapping[str, tuple[str | None, str]],
    otherwise: str,
) -> FormErrors:
    """`fields`: the form's field (the body's name for it) -> its message; `codes`: a domain
    code -> the field it concerns (or None for the whole form) and its message."""
    found = FormErrors()
    known = codes.get(problem_code(problem))
    if known is not None:
        name, message = known
        if name is None:
            found.general.append(message)
        else:
            found.fields[name] = message
    errors = problem.problem.get("errors")
    for error in errors if isinstance(errors, list) else []:
        location = str(error.get("location", "")).split(".") if isinstance(error, dict) else []
        name = location[1] if len(location) > 1 and location[0] == "body" else ""
        if name in fields:
            found.fields.setdefault(name, fields[name])
        elif otherwise not in found.general:
            found.general.append(otherwise)
    if not found:
        found.general.append(otherwise)
    # In the order the form asks, as the summary lists them.
    ordered = {name: found.fields[name] for name in fields if name in found.fields}
    found.fields = {**ordered, **found.fields}
    return found
