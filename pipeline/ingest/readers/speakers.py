"""Speaker conventions (configs/speakers.yaml): label layouts, role aliases, role heuristic.

Readers use the label layouts to find who speaks on each line; `pipeline.ingest.roles` uses the role
aliases and the heuristic settings to decide who is the interviewer. Users extend the YAML file.
"""
from __future__ import annotations

import re
import unicodedata
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from ...core.errors import ConfigError
from ...core.config import load_config, parse_yaml, validate_config

# In a checkout the user-editable file is configs/speakers.yaml; an installed package falls back
# on the copy shipped in pipeline/resources/ (a test keeps the two identical).
REPO_CONFIG = Path(__file__).resolve().parents[3] / "configs" / "speakers.yaml"
PACKAGED_CONFIG = "resources/speakers.yaml"  # package data of `pipeline`


def speaker_key(name: str) -> str:
    """How names compare: 'ENQUÊTRICE', 'Enquetrice ' and 'enquêtrice' are the same speaker/alias."""
    decomposed = unicodedata.normalize("NFKD", name.replace("’", "'"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split()).rstrip(".")


class LabelLayout(BaseModel):
    """One way of writing a speaker label at the start of a line, as a regex."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    pattern: str
    # A deliberate layout (timestamp, bold markup) is believed even for a name seen only once.
    strong: bool = False

    @field_validator("pattern")
    @classmethod
    def _valid_regex(cls, pattern: str) -> str:
        try:
            compiled = re.compile(pattern)
        except re.error as e:
            raise ValueError(f"not a valid regular expression ({e})") from None
        if "name" not in compiled.groupindex:
            raise ValueError("must capture the speaker in a group (?P<name>...)")
        return pattern

    @property
    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern)  # the re module caches compiled patterns


class RoleAliases(BaseModel):
    model_config = ConfigDict(extra="forbid")

    interviewer: list[str] = Field(default_factory=list)
    interviewee: list[str] = Field(default_factory=list)
    other: list[str] = Field(default_factory=list)


class DashTurns(BaseModel):
    """Transcripts where each turn opens with a dash and speakers alternate, interviewer first."""

    model_config = ConfigDict(extra="forbid")

    markers: list[str] = Field(default_factory=lambda: ["—", "–", "-"])
    speakers: tuple[str, str] = ("A", "B")


class RoleHeuristic(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # A turn is a question if it holds one of these anywhere...
    question_phrases: list[str] = Field(default_factory=lambda: ["?", "est-ce que", "est-ce qu'", "qu'est-ce"])
    # ...or opens (first three words) with one of these.
    question_openers: list[str] = Field(default_factory=list)
    # Speakers beside the main interviewee who say at least this share of the interviewee's
    # words, or at least `co_interviewee_words` words, are interviewees too (a colleague who
    # joins); below both they are `other` (a bystander's "bonjour").
    co_interviewee_share: float = Field(0.10, ge=0, le=1)
    co_interviewee_words: int = Field(40, ge=0)
    # The densest asker is the interviewer only if they ask this many times more (per word) than
    # the next; otherwise the first of the two to speak is.
    clear_margin: float = Field(1.5, ge=1)
    # A further speaker is a second interviewer (ESLO's teams interviewed in twos and threes)
    # when they ask at least `co_interviewer_questions` questions, at a density of at least
    # `co_interviewer_density` times the interviewer's and twice the interviewee's.
    co_interviewer_density: float = Field(0.4, ge=0)
    co_interviewer_questions: int = Field(3, ge=1)


class SpeakerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    labels: list[LabelLayout]
    max_label_chars: int = Field(40, ge=1, le=120)
    max_label_words: int = Field(5, ge=1, le=12)
    # Lower-case words allowed inside a name: "Jean de La Fontaine", "Ludwig van Beethoven".
    name_particles: list[str] = Field(default_factory=list)
    # A label whose first word is one of these is never a speaker, unless it is a role alias:
    # "Alors : ...", "Date : 12 mars", "Mais Jean : ..." stay text.
    not_speakers: list[str] = Field(default_factory=list)
    roles: RoleAliases = Field(default_factory=RoleAliases)
    dash_turns: DashTurns = Field(default_factory=DashTurns)
    heuristic: RoleHeuristic = Field(default_factory=RoleHeuristic)

    _alias_roles: dict[str, str] = PrivateAttr(default_factory=dict)
    _not_speakers: frozenset[str] = PrivateAttr(default=frozenset())
    _particles: frozenset[str] = PrivateAttr(default=frozenset())

    @model_validator(mode="after")
    def _index(self) -> "SpeakerConfig":
        seen: dict[str, str] = {}
        for role in ("interviewer", "interviewee", "other"):
            for alias in getattr(self.roles, role):
                key = speaker_key(alias)
                if key in seen and seen[key] != role:
                    raise ValueError(f"roles: alias {alias!r} is listed under both {seen[key]} and {role}")
                seen[key] = role
        self._alias_roles = seen
        self._not_speakers = frozenset(speaker_key(w) for w in self.not_speakers)
        self._particles = frozenset(speaker_key(w) for w in self.name_particles)
        return self

    def alias_role(self, name: str) -> str | None:
        """The role a label like 'Q', 'Enquêtrice' or 'P1' stands for, if it is a known alias."""
        return self._alias_roles.get(speaker_key(name))

    def is_not_speaker(self, word: str) -> bool:
        return speaker_key(word) in self._not_speakers

    def is_particle(self, word: str) -> bool:
        return speaker_key(word) in self._particles


HINT = "see the comments in configs/speakers.yaml"


def load_speaker_config(path: str | Path | None = None) -> SpeakerConfig:
    """Read speakers.yaml: `path` if given, else the repository's configs/speakers.yaml, else the
    copy packaged with codeur. Errors name the file and the field at fault."""
    if path is not None:
        if not Path(path).is_file():
            raise ConfigError("speaker configuration file not found", path=str(path))
        return load_config(path, SpeakerConfig, what="speaker configuration", hint=HINT)
    if REPO_CONFIG.is_file():
        return load_config(REPO_CONFIG, SpeakerConfig, what="speaker configuration", hint=HINT)
    packaged = resources.files("pipeline").joinpath(PACKAGED_CONFIG)
    where = f"<codeur package>/{PACKAGED_CONFIG}"
    return validate_config(parse_yaml(packaged.read_text(encoding="utf-8"), where), SpeakerConfig, where=where,
                           what="speaker configuration", hint=HINT)
