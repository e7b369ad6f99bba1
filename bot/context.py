"""The callback context handlers receive: the services, the texts and the caller's account."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.accounts.service import Account, AccountService
from bot.groups.service import GroupService
from bot.history.service import HistoryService
from bot.localtime.defaults import Clock
from bot.nudges.service import NudgeService
from bot.posts.service import PostService
from bot.privacy.service import PrivacyService
from bot.profiles.service import ProfileService
from bot.results.service import ResultsService
from bot.reviews.pastes import Pastes
from bot.reviews.service import ReviewService
from bot.rewrite.service import RewriteService
from bot.settings import Language, Settings
from bot.stats import StatsService
from bot.texts.catalog import Texts
from bot.transport.pacing import ChatPacer


@dataclass(frozen=True)
class Services:
    """Everything the composition root builds once and handlers use."""

    settings: Settings
    texts: Texts
    accounts: AccountService
    reviews: ReviewService
    profiles: ProfileService
    posts: PostService
    results: ResultsService
    stats: StatsService
    history: HistoryService
    privacy: PrivacyService
    nudges: NudgeService
    pacer: ChatPacer
    groups: GroupService
    clock: Clock
    # Only when a language model is configured (LLM_BASE_URL and LLM_MODEL).
    rewrites: RewriteService | None = None
    # Parts of long pastes that Telegram split, waiting for the rest.
    pastes: Pastes = field(default_factory=Pastes)


class CoachContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """PTB's context plus typed access to the services and the current account.

    PTB builds one context per update and shares it across handler groups, so
    the account loaded by the first group is seen by the handler that answers.
    """

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application, chat_id, user_id)
        self.account: Account | None = None

    @property
    def services(self) -> Services:
        """The services built by the composition root."""
        services: Services = self.application.bot_data["services"]
        return services

    @property
    def texts(self) -> Texts:
        """The validated texts."""
        return self.services.texts

    @property
    def lang(self) -> Language:
        """The language to answer in."""
        return self.account.language if self.account else self.texts.default

    def render(self, text_id: str, **values: object) -> str:
        """A text in the caller's language, values HTML-escaped."""
        return self.texts.render(self.lang, text_id, **values)
