"""The goals routes' own dependencies: the service's configuration and the reader's language.
Callers, the database runner and paging come from `aptt_platform.deps` and `aptt_platform.web`."""

from __future__ import annotations

from typing import Annotated

from aptt_platform.deps import config_dependency
from fastapi import Depends, Header, Path, Response

from aptt_goals.i18n import CATALOGUES
from aptt_goals.settings import Config


def _language(
    response: Response,
    accept_language: Annotated[
        str | None, Header(max_length=500, description="e.g. es, en;q=0.8")
    ] = None,
) -> str:
    language = CATALOGUES.negotiate(accept_language)
    response.headers["Content-Language"] = language
    return language


ConfigDep = Annotated[Config, Depends(config_dependency(Config))]
Language = Annotated[str, Depends(_language)]
# Ids in paths: the roster's and ours are far shorter; a longer one is a 422, not a lookup.
GoalId = Annotated[str, Path(min_length=1, max_length=100)]
StudentId = Annotated[str, Path(min_length=1, max_length=100)]
ClassroomId = Annotated[str, Path(min_length=1, max_length=100)]
