"""What Telegram sends us is made safe before python-telegram-bot reads it, in both modes.

Even an update that carries the webhook secret can be one we cannot handle: an id beyond
what the Bot API hands out (the update ledger's integer overflows), a message without its
chat (a handler's filter trips on it), or text holding lone UTF-16 surrogates (a reply
quoting it cannot be encoded). Such an update is dropped with a reason instead of failing
later with a traceback; lone surrogates are replaced by U+FFFD in every string, so the text
is kept and can be sent back. While polling, a refused token is waited out like an outage.

Polling drops an update by taking it out of the getUpdates answer before PTB reads it: PTB
would otherwise fail on the whole answer and ask for it again, for ever. The answer's last
update stays as its bare ``update_id``, since PTB asks for the updates after the last one.
"""

from __future__ import annotations

import json
import logging
import re
from http import HTTPStatus
from typing import Any

from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.error import NetworkError
from telegram.request import RequestData

from bot.transport import metrics
from bot.transport.delegating import DelegatingRequest
from bot.transport.metrics import DropReason

logger = logging.getLogger(__name__)

# Update ids are 32-bit (the Bot API's "Integer"); other ids have "at most 52 significant
# bits", so they fit a double and a signed 64-bit column alike.
MAX_UPDATE_ID = 2**31 - 1
MAX_ID = 2**53
REPLACEMENT = "\ufffd"
# After json.loads a valid surrogate pair is one character: any surrogate left is alone.
_SURROGATE = re.compile("[\ud800-\udfff]")
# In a JSON body, the escape of a surrogate (paired or not): only then is there work to do.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_MESSAGE = ("message_id", "date", "chat")
_MEMBER_CHANGE = ("chat", "from", "date", "old_chat_member", "new_chat_member")
# The fields python-telegram-bot's handlers and filters rely on, by kind of update.
REQUIRED: dict[str, tuple[str, ...]] = {
    "message": _MESSAGE,
    "edited_message": _MESSAGE,
    "channel_post": _MESSAGE,
    "edited_channel_post": _MESSAGE,
    "business_message": _MESSAGE,
    "edited_business_message": _MESSAGE,
    "callback_query": ("id", "from", "chat_instance"),
    "my_chat_member": _MEMBER_CHANGE,
    "chat_member": _MEMBER_CHANGE,
    "chat_join_request": ("chat", "from", "user_chat_id", "date"),
    "inline_query": ("id", "from", "query", "offset"),
}
# What a chat and a user must have wherever they appear.
_CHAT = ("id", "type")
_USER = ("id", "is_bot", "first_name")


def without_lone_surrogates(value: Any) -> Any:
    """The JSON value with every lone surrogate in its strings (and keys) replaced."""
    if isinstance(value, str):
        return _SURROGATE.sub(REPLACEMENT, value)
    if isinstance(value, dict):
        return {
            without_lone_surrogates(key): without_lone_surrogates(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [without_lone_surrogates(item) for item in value]
    return value


def _ids_in_range(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -MAX_ID <= value <= MAX_ID
    if isinstance(value, dict):
        return all(_ids_in_range(item) for item in value.values())
    if isinstance(value, list):
        return all(_ids_in_range(item) for item in value)
    return True


def _has(value: Any, fields: tuple[str, ...]) -> bool:
    return isinstance(value, dict) and all(value.get(name) is not None for name in fields)


def _parts_present(value: Any) -> bool:
    """Every chat and user inside has its id (and kind, or name)."""
    if isinstance(value, list):
        return all(_parts_present(item) for item in value)
    if not isinstance(value, dict):
        return True
    for key, item in value.items():
        if key in ("chat", "sender_chat") and not _has(item, _CHAT):
            return False
        if key in ("from", "user") and not _has(item, _USER):
            return False
        if not _parts_present(item):
            return False
    return True


def unhandleable(data: dict[str, Any]) -> DropReason | None:
    """Why this decoded update cannot be handled ("ids", "parts"), or None if it can."""
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or not 0 <= update_id <= MAX_UPDATE_ID:
        return "ids"
    if not _ids_in_range(data):
        return "ids"
    for kind, fields in REQUIRED.items():
        if kind in data and not _has(data[kind], fields):
            return "parts"
    if not _parts_present(data):
        return "parts"
    return None


def clean_updates_payload(payload: bytes) -> bytes:
    """A getUpdates answer without the updates that cannot be handled (counted, one warning
    each) and with lone surrogates replaced; the same bytes when there is nothing to do."""
    surrogates = _SURROGATE_ESCAPE.search(payload) is not None
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):
        return payload  # not ours to judge: PTB reports a body it cannot read
    updates = data.get("result") if isinstance(data, dict) else None
    if not isinstance(updates, list):
        return payload  # an error, or not an answer of getUpdates
    kept = _handleable(updates)
    if not surrogates and kept is updates:
        return payload
    data["result"] = kept
    return json.dumps(without_lone_surrogates(data), ensure_ascii=False).encode()


def _handleable(updates: list[Any]) -> list[Any]:
    """The updates that can be handled: the same list when they all can."""
    kept: list[Any] = []
    for update in updates:
        reason = unhandleable(update) if isinstance(update, dict) else "parts"
        if reason is None:
            kept.append(update)
            continue
        metrics.count_dropped(reason)
        logger.warning("update dropped: it cannot be handled (%s)", reason)
    last = updates[-1] if updates else None
    if isinstance(last, dict) and (not kept or kept[-1] is not last):
        last_id = last.get("update_id")
        if isinstance(last_id, int):
            # Handled by nobody, but it moves PTB's offset past what was dropped.
            kept.append({"update_id": last_id})
    return updates if kept == updates else kept


class CleanUpdates(DelegatingRequest):
    """For getUpdates in polling mode: the answer made safe before PTB reads it."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """The wrapped request's answer, cleaned (see ``clean_updates_payload``)."""
        status, payload = await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        return status, clean_updates_payload(payload)


class RefusalWaits(DelegatingRequest):
    """For getUpdates, under PatientRequest: a 401 once the token was accepted at start is
    waited out with the outage's backoff, as Telegram does answer it for a while at times.

    PTB's polling loop would otherwise stop for good at the first one ("Invalid token.
    Aborting retry loop.") while the process stayed up, answering nothing. A token truly
    revoked shows as a warning each backoff step, and as "refused" at the next start.
    """

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """The wrapped request's answer; a NetworkError (which PatientRequest waits out)
        for a refused token."""
        status, payload = await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if status == HTTPStatus.UNAUTHORIZED:
            raise NetworkError("HTTP 401: Telegram refuses the token")
        return status, payload
