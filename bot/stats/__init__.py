"""The user's statistics: `service` computes them, `view` renders their text and chart."""

from bot.stats.service import (
    FAILING_DAYS,
    FAILING_TOP,
    MAX_STREAK_WEEKS,
    POINT_WEEKS,
    TREND_WEEKS,
    FailingItem,
    PlatformResults,
    ScoreTrend,
    Stats,
    StatsService,
    WeekPoint,
    week_starts,
)

__all__ = [
    "FAILING_DAYS",
    "FAILING_TOP",
    "MAX_STREAK_WEEKS",
    "POINT_WEEKS",
    "TREND_WEEKS",
    "FailingItem",
    "PlatformResults",
    "ScoreTrend",
    "Stats",
    "StatsService",
    "WeekPoint",
    "week_starts",
]
