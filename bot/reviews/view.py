"""How a review looks in chat: HTML text that always fits one message, and its buttons."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.coach import PLATFORMS, ItemResult
from bot.reviews.service import MAX_DRAFT_CHARS, DraftRejectedError, StoredReview
from bot.texts.catalog import Texts
from bot.transport.replies import MESSAGE_LIMIT

# Reasons and suggestions quote the draft; if the whole review would not fit one
# message, they are shortened step by step rather than split across messages.
FIELD_CAPS: tuple[int | None, ...] = (None, 300, 200, 140, 90, 50, 0)


def _cap(text: str, cap: int | None) -> str:
    if cap is None or len(text) <= cap:
        return text
    return text[: max(cap - 1, 0)].rstrip() + "…" if cap else ""


def _title(texts: Texts, lang: str, item_id: str) -> str:
    return texts.render(lang, f"items.{item_id}")


def _item_lines(
    texts: Texts, lang: str, items: list[ItemResult], details: bool, cap: int | None
) -> list[str]:
    lines = []
    for item in items:
        lines.append(
            texts.render(
                lang,
                "review.item_detail" if details else "review.item",
                item=_title(texts, lang, item.id),
                reason=_cap(item.reason, cap),
            )
        )
        if details:
            lines.append(
                texts.render(
                    lang,
                    "review.suggestion",
                    suggestion=_cap(item.suggestion, cap),
                    source=texts.source(lang, item.source),
                )
            )
    return lines


def _render(texts: Texts, lang: str, stored: StoredReview, details: bool, cap: int | None) -> str:
    review = stored.review
    by_status: dict[str, list[ItemResult]] = {"fail": [], "warn": [], "pass": [], "skip": []}
    for item in review.items:
        by_status[item.status].append(item)
    lines = [
        texts.render(
            lang,
            "review.header",
            score=review.score,
            platform=texts.raw(lang, f"platforms.{review.platform}"),
            language=texts.raw(lang, f"languages.{review.language}"),
        )
    ]
    comparison = stored.comparison
    if comparison is not None:
        lines.append(
            texts.render(
                lang,
                "review.version",
                version=stored.version,
                delta=f"{comparison.delta:+d}",
                previous=comparison.previous_score,
            )
        )
        if comparison.changes:
            changes = ", ".join(
                texts.plain(
                    lang,
                    "review.change",
                    item=texts.raw(lang, f"items.{change.item_id}"),
                    before=texts.raw(lang, f"statuses.{change.before}"),
                    after=texts.raw(lang, f"statuses.{change.after}"),
                )
                for change in comparison.changes
            )
            lines.append(texts.render(lang, "review.changed", changes=changes))
    for status, header in (("fail", "review.failing"), ("warn", "review.warnings")):
        if by_status[status]:
            lines += ["", texts.render(lang, header)]
            lines += _item_lines(texts, lang, by_status[status], details, cap)
    lines.append("")
    if details and by_status["pass"]:
        lines.append(texts.render(lang, "review.passed_details"))
        lines += _item_lines(texts, lang, by_status["pass"], False, cap)
    elif by_status["pass"]:
        names = ", ".join(texts.raw(lang, f"items.{item.id}") for item in by_status["pass"])
        lines.append(texts.render(lang, "review.passed", items=names))
    else:
        lines.append(texts.render(lang, "review.passed_none"))
    if by_status["skip"]:
        names = ", ".join(texts.raw(lang, f"items.{item.id}") for item in by_status["skip"])
        lines.append(texts.render(lang, "review.skipped", items=names))
    lines.append("")
    if review.top_fixes:
        lines.append(texts.render(lang, "review.top_fixes", count=len(review.top_fixes)))
        suggestions = {item.id: item.suggestion for item in review.items}
        for number, item_id in enumerate(review.top_fixes, start=1):
            lines.append(
                texts.render(
                    lang,
                    "review.fix",
                    number=number,
                    item=_title(texts, lang, item_id),
                    suggestion=_cap(suggestions.get(item_id, ""), cap),
                )
            )
    else:
        lines.append(texts.render(lang, "review.no_fixes"))
    return "\n".join(lines)


def render_review(texts: Texts, lang: str, stored: StoredReview, *, details: bool = False) -> str:
    """The review as one HTML message of at most 4,096 characters."""
    text = ""
    for cap in FIELD_CAPS:
        text = _render(texts, lang, stored, details, cap)
        if len(text) <= MESSAGE_LIMIT:
            return text
    return text[:MESSAGE_LIMIT]


def review_keyboard(
    texts: Texts,
    lang: str,
    stored: StoredReview,
    *,
    details: bool = False,
    rewrite: bool = False,
    private: bool = True,
) -> InlineKeyboardMarkup:
    """Buttons: other platforms, details on/off, a new version, "I posted it".

    With `rewrite` (a language model is configured), a "suggest a rewrite" button too. In a
    group (`private` false) only the buttons that change the review in place: a new
    version, a post and a rewrite are the author's own business, in private.
    """
    review_id = stored.review_id
    platforms = [
        InlineKeyboardButton(
            texts.raw(lang, f"platforms.{platform}"),
            callback_data=f"review.platform:{review_id}:{platform}",
        )
        for platform in PLATFORMS
        if platform != stored.review.platform
    ]
    toggle = (
        InlineKeyboardButton(
            texts.raw(lang, "review.button_hide"), callback_data=f"review.details:{review_id}:0"
        )
        if details
        else InlineKeyboardButton(
            texts.raw(lang, "review.button_details"), callback_data=f"review.details:{review_id}:1"
        )
    )
    if not private:
        return InlineKeyboardMarkup([platforms, [toggle]])
    rows = [
        platforms,
        [toggle],
        [
            InlineKeyboardButton(
                texts.raw(lang, "review.button_revise"),
                callback_data=f"review.revise:{review_id}",
            ),
            InlineKeyboardButton(
                texts.raw(lang, "review.button_posted"),
                callback_data=f"review.posted:{review_id}",
            ),
        ],
    ]
    if rewrite:
        rows.append(
            [
                InlineKeyboardButton(
                    texts.raw(lang, "rewrite.button"), callback_data=f"review.rewrite:{review_id}"
                )
            ]
        )
    return InlineKeyboardMarkup(rows)


def rejection_text(texts: Texts, lang: str, rejected: DraftRejectedError) -> str | None:
    """Why a draft was not reviewed, or None when the user was told already (a burst)."""
    if not rejected.tell:
        return None
    return texts.render(
        lang,
        f"review.rejected_{rejected.reason}",
        limit=MAX_DRAFT_CHARS,
        seconds=rejected.seconds,
        pace=rejected.pace,
    )


async def reply_rejection(
    message: Message, texts: Texts, lang: str, rejected: DraftRejectedError
) -> None:
    """Answer a draft that was not reviewed with why (nothing during a burst)."""
    refusal = rejection_text(texts, lang, rejected)
    if refusal is not None:
        await message.reply_text(refusal)
