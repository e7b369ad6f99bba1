"""Long pastes that Telegram split into several messages, joined back into one draft.

Telegram cuts a text longer than one message (4,096 characters, counted in UTF-16 code
units) into messages of exactly that length and one shorter rest, sent one right after the
other. Reviewed one by one, a 5,000-character post would get two reviews, the second of a
fragment. So a message of exactly that length is held for a moment: what the same chat
sends within `WINDOW` seconds is added to it, and the whole is reviewed once; if nothing
follows, it is reviewed alone.

The parts held live in memory only: a process stopped inside the window loses the held
part, and the user sends it again (it was never reviewed, so nothing is half-kept).
"""

from __future__ import annotations

from dataclasses import dataclass

# Telegram's length of one message, and so of every part of a split paste but the last.
PART_LENGTH = 4096
# How long a full-length part waits for the rest. Clients send the parts back to back,
# well within a second; a person typing the next message takes longer.
WINDOW = 1.5
# A paste is at most this many parts; beyond it the text is over the draft limit anyway.
MAX_PARTS = 3


def utf16_length(text: str) -> int:
    """The text's length as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


def is_part(text: str) -> bool:
    """Whether a message has the exact length of a part Telegram cut from a longer text."""
    return PART_LENGTH in (len(text), utf16_length(text))


@dataclass
class _Held:
    text: str
    parts: int
    token: object


class Pastes:
    """The parts each chat has sent so far of a paste that is still coming."""

    def __init__(self, window: float = WINDOW) -> None:
        self.window = window
        self._held: dict[int, _Held] = {}

    def add(self, chat_id: int, message: str) -> tuple[str, object | None]:
        """Add a message to what the chat holds. Returns the text so far, and a token when
        it should wait for more: the caller waits `window`, then `release`s the token.

        What is held ends only here (a message came in time) or in `release` (none did),
        so no part is ever dropped between the two.
        """
        held = self._held.pop(chat_id, None)
        text, parts = message, 1
        if held is not None:
            text, parts = held.text + message, held.parts + 1
        if is_part(message) and parts < MAX_PARTS:
            token = object()
            self._held[chat_id] = _Held(text, parts, token)
            return text, token
        return text, None

    def release(self, chat_id: int, token: object) -> str | None:
        """The held text, if it is still the one `token` was given for (nothing came)."""
        held = self._held.get(chat_id)
        if held is None or held.token is not token:
            return None
        del self._held[chat_id]
        return held.text
