"""The values a review hands to the rest of the bot: statuses, item results, the review."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["pass", "warn", "fail", "skip"]
STATUSES: tuple[Status, ...] = ("pass", "warn", "fail", "skip")

# A public contract (checklist.md): stored in the database and printed by `review --json`.
ITEM_IDS: tuple[str, ...] = (
    "visibility",
    "clarity",
    "audience",
    "point_of_view",
    "interaction",
    "personal_voice",
    "reputation_focus",
    "relationships_not_likes",
    "spam_hygiene",
    "platform_fit",
    "hook",
)

PLATFORMS: tuple[str, ...] = ("linkedin", "x", "instagram", "facebook", "threads")

LANGUAGES: tuple[str, ...] = ("it", "en")


@dataclass(frozen=True)
class ItemResult:
    """One checklist item as judged on one draft: plain text, the caller escapes it."""

    id: str
    status: Status
    reason: str
    suggestion: str
    source: str

    def to_dict(self) -> dict[str, str]:
        """The item as the JSON object of checklist.md."""
        return {
            "id": self.id,
            "status": self.status,
            "reason": self.reason,
            "suggestion": self.suggestion,
            "source": self.source,
        }


@dataclass(frozen=True)
class Review:
    """The checklist's verdict on a draft: every item, a 0-100 score and the top fixes."""

    language: str
    platform: str
    score: int
    items: tuple[ItemResult, ...]
    top_fixes: tuple[str, ...]

    def item(self, item_id: str) -> ItemResult:
        """The result of one item by id (KeyError if the id is unknown)."""
        for result in self.items:
            if result.id == item_id:
                return result
        raise KeyError(item_id)

    def to_dict(self) -> dict[str, Any]:
        """Exactly the JSON shape of checklist.md."""
        return {
            "language": self.language,
            "platform": self.platform,
            "score": self.score,
            "items": [result.to_dict() for result in self.items],
            "top_fixes": list(self.top_fixes),
        }
