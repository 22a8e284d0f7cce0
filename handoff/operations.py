"""The operations file (operations.yml) as the service sees it: teams, routing map, SLAs, languages."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field


class ChannelSla(BaseModel):
    first_response: int = 300
    answer: int = 900


class Operations(BaseModel):
    """Only the keys the service uses are typed; the actions read the same file for business hours."""

    timezone: str = "UTC"
    default_language: str = "es"
    languages: list[str] = Field(default_factory=lambda: ["es", "en"])
    teams: dict[str, dict[str, Any]] = Field(default_factory=dict)
    intent_teams: dict[str, str] = Field(default_factory=dict)
    sla: dict[str, ChannelSla] = Field(default_factory=dict)
    follow_up_window_hours: int = 72
    whatsapp_templates: list[dict[str, Any]] = Field(default_factory=list)

    def team_for(self, intent: str | None, requested: str | None = None) -> str:
        """The team named by the assistant if we know it, else the one mapped to the intent."""
        if requested and requested in self.teams:
            return requested
        return self.intent_teams.get(intent or "", self.intent_teams.get("default", "care"))

    def language_or_default(self, language: str | None) -> str:
        """A language we have texts for."""
        return language if language in self.languages else self.default_language


def load_operations(path: Path) -> Operations:
    """Parses and validates the file; a broken file stops start-up with a clear error."""
    with open(path, encoding="utf-8") as handle:
        return Operations.model_validate(yaml.safe_load(handle) or {})


@lru_cache
def cached_operations(path: Path) -> Operations:
    """Read once per process."""
    return load_operations(path)
