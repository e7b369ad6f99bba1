"""Finding a button under a message the bot sent, as a user looks for it before pressing."""

from __future__ import annotations

from typing import Any

from tests.fakebot import SentMessage, inline_buttons


def button(message: SentMessage | dict[str, Any], prefix: str) -> str:
    """The callback data of the first button whose data starts with `prefix`; fails
    naming the buttons there are when none does."""
    sent = message.message if isinstance(message, SentMessage) else message
    for _, data in inline_buttons(sent):
        if data.startswith(prefix):
            return data
    raise AssertionError(f"no button {prefix} in {inline_buttons(sent)}")
