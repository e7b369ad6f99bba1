"""The checklist engine: pure functions over a draft's text and the user's profile.

No Telegram and no database here. Rules, thresholds, word lists and every text live
as data in prompts/checklist/; `load_checklist()` reads and validates them once.
"""

from bot.coach.config import ChecklistError
from bot.coach.engine import Checklist, detect_language, load_checklist, weighted_length
from bot.coach.review import ITEM_IDS, PLATFORMS, ItemResult, Review, Status
from bot.coach.thesaurus import TopicExpansion

__all__ = [
    "ITEM_IDS",
    "PLATFORMS",
    "Checklist",
    "ChecklistError",
    "ItemResult",
    "Review",
    "Status",
    "TopicExpansion",
    "detect_language",
    "load_checklist",
    "weighted_length",
]
