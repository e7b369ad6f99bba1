"""The prompt for a rewrite: templates from `prompts/rewrite/`, filled in from the review.

The templates are data, one file per draft language, read by `bot.yamlfiles` like the
texts: a missing, unknown or repeated key, or a placeholder that is not the expected one,
stops start-up naming the file. The prompt is written in the draft's language, so the model
answers in it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from bot.yamlfiles import placeholders, read_model

PROMPT_LANGUAGES: tuple[str, ...] = ("it", "en")
FALLBACK_LANGUAGE = "en"


class PromptsError(Exception):
    """A prompt file is missing or malformed; the message names the file."""


class RewritePrompt(BaseModel):
    """One language's templates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    system: str
    user: str
    finding: str
    no_findings: str
    not_given: str
    status_fail: str
    status_warn: str


# What each template must ask for: no more, no less.
EXPECTED: Mapping[str, frozenset[str]] = {
    "system": frozenset(),
    "user": frozenset({"platform", "limit", "role", "audience", "topics", "findings", "draft"}),
    "finding": frozenset({"item", "status", "reason", "suggestion"}),
    "no_findings": frozenset(),
    "not_given": frozenset(),
    "status_fail": frozenset(),
    "status_warn": frozenset(),
}


@dataclass(frozen=True)
class Finding:
    """A checklist item the draft fails or could improve, in the draft's language."""

    item: str
    status: str
    reason: str
    suggestion: str


@dataclass(frozen=True)
class RewriteRequest:
    """Everything the prompt is built from."""

    draft: str
    language: str
    platform: str
    limit: int
    role: str | None
    audience: tuple[str, ...]
    topics: tuple[str, ...]
    findings: tuple[Finding, ...]


Message = dict[str, str]


class RewritePrompts:
    """The validated templates of every language; builds the chat messages of a request."""

    def __init__(self, by_language: Mapping[str, RewritePrompt]) -> None:
        self._by_language = dict(by_language)

    def template(self, language: str) -> RewritePrompt:
        """The templates for a draft language (English for any other)."""
        return self._by_language.get(language) or self._by_language[FALLBACK_LANGUAGE]

    def messages(self, request: RewriteRequest) -> list[Message]:
        """The system and user messages of a chat-completions request."""
        prompt = self.template(request.language)

        def listed(values: Sequence[str]) -> str:
            return ", ".join(values) if values else prompt.not_given

        statuses = {"fail": prompt.status_fail, "warn": prompt.status_warn}
        findings = "\n".join(
            prompt.finding.format(
                item=finding.item,
                status=statuses.get(finding.status, finding.status),
                reason=finding.reason,
                suggestion=finding.suggestion,
            )
            for finding in request.findings
        )
        user = prompt.user.format(
            platform=request.platform,
            limit=request.limit,
            role=request.role or prompt.not_given,
            audience=listed(request.audience),
            topics=listed(request.topics),
            findings=findings or prompt.no_findings,
            draft=request.draft,
        )
        return [{"role": "system", "content": prompt.system}, {"role": "user", "content": user}]


def _read(path: Path) -> RewritePrompt:
    prompt = read_model(path, RewritePrompt, PromptsError)
    for name, expected in EXPECTED.items():
        try:
            found = placeholders(getattr(prompt, name))
        except ValueError as exc:
            raise PromptsError(f"{path}: {name}: {exc}") from None
        if found != expected:
            raise PromptsError(
                f"{path}: {name}: placeholders {sorted(found)} should be {sorted(expected)}"
            )
    return prompt


def prompts_directory() -> Path:
    """Where the shipped rewrite prompts live."""
    return Path(str(files("prompts").joinpath("rewrite")))


def load_prompts(directory: Path | None = None) -> RewritePrompts:
    """Load and check every language's templates; raise PromptsError naming the file."""
    directory = directory or prompts_directory()
    return RewritePrompts({lang: _read(directory / f"{lang}.yaml") for lang in PROMPT_LANGUAGES})
