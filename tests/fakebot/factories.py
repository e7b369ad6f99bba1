"""Builders of Bot API update dicts that read like the user's story.

Each builder returns a plain dict ready for ``FakeTelegram.push_update`` (which fills in
``update_id``); in-process tests call ``FakeTelegram.observe`` or ``with_update_id`` instead.
Message ids come from one module-wide counter, so every message is distinct.
"""

import copy
import itertools
import time
from typing import Any

from tests.fakebot.core import ANONYMOUS_ADMIN_ID, DEFAULT_TOKEN, JsonDict, chat_member_json

_message_ids = itertools.count(1)
_update_ids = itertools.count(1)
_query_ids = itertools.count(1)
_file_ids = itertools.count(1)

DEFAULT_BOT_USER: JsonDict = {
    "id": int(DEFAULT_TOKEN.split(":", 1)[0]),
    "is_bot": True,
    "first_name": "PostCoach",
    "username": "postcoach_test_bot",
}
ANONYMOUS_ADMIN: JsonDict = {
    "id": ANONYMOUS_ADMIN_ID,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}


def _now() -> int:
    return int(time.time())


def _file(kind: str) -> tuple[str, str]:
    number = next(_file_ids)
    return f"user-{kind}-{number:06d}", f"user-unique-{kind}-{number:06d}"


def make_user(
    user_id: int,
    first_name: str = "Anna",
    language_code: str | None = "it",
    username: str | None = None,
    *,
    last_name: str | None = None,
) -> JsonDict:
    """A Telegram User (not a bot)."""
    user: JsonDict = {"id": user_id, "is_bot": False, "first_name": first_name}
    if last_name is not None:
        user["last_name"] = last_name
    if username is not None:
        user["username"] = username
    if language_code is not None:
        user["language_code"] = language_code
    return user


def private_chat(user: JsonDict) -> JsonDict:
    """The private chat between ``user`` and the bot (its id is the user's id)."""
    chat: JsonDict = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
    for key in ("last_name", "username"):
        if key in user:
            chat[key] = user[key]
    return chat


def make_group(chat_id: int, title: str, type: str = "supergroup") -> JsonDict:
    """A group or supergroup chat; Telegram's group ids are negative.

    ``type`` shadows the builtin on purpose: it is the Bot API field it fills.
    """
    if chat_id >= 0:
        raise ValueError("group chat ids are negative")
    if type not in ("group", "supergroup"):
        raise ValueError(f"not a group type: {type!r}")
    return {"id": chat_id, "type": type, "title": title}


def make_channel(chat_id: int, title: str, username: str | None = None) -> JsonDict:
    """A channel chat (negative id, usually -100...); ``username`` makes it public."""
    if chat_id >= 0:
        raise ValueError("channel chat ids are negative")
    chat: JsonDict = {"id": chat_id, "type": "channel", "title": title}
    if username is not None:
        chat["username"] = username
    return chat


def _message(chat: JsonDict, sender: JsonDict | None, **content: Any) -> JsonDict:
    message: JsonDict = {"message_id": next(_message_ids), "date": _now(), "chat": dict(chat)}
    if sender is not None:
        message["from"] = dict(sender)
    message.update(content)
    return message


def _command_entities(text: str) -> list[JsonDict]:
    if not text.startswith("/"):
        return []
    length = len(text.split(maxsplit=1)[0]) if text.strip() else 1
    # Offsets are UTF-16 units; a command is ASCII, so its length is the same.
    return [{"type": "bot_command", "offset": 0, "length": length}]


def _text_content(text: str) -> dict[str, Any]:
    content: dict[str, Any] = {"text": text}
    entities = _command_entities(text)
    if entities:
        content["entities"] = entities
    return content


def private_text(user: JsonDict, text: str) -> JsonDict:
    """The user writes ``text`` to the bot in private (a command gets its entity)."""
    return {"message": _message(private_chat(user), user, **_text_content(text))}


def command(
    user: JsonDict, name: str, args: str | None = None, *, chat: JsonDict | None = None
) -> JsonDict:
    """The user sends ``/name args`` in private, or in ``chat`` when given."""
    text = name if name.startswith("/") else f"/{name}"
    if args:
        text = f"{text} {args}"
    target = chat if chat is not None else private_chat(user)
    return {"message": _message(target, user, **_text_content(text))}


def group_text(
    user: JsonDict, chat: JsonDict, text: str, reply_to: JsonDict | None = None
) -> JsonDict:
    """The user writes in a group; ``reply_to`` is the message dict answered."""
    content = _text_content(text)
    if reply_to is not None:
        content["reply_to_message"] = copy.deepcopy(reply_to)
    return {"message": _message(chat, user, **content)}


def channel_post(chat: JsonDict, text: str) -> JsonDict:
    """A post published in a channel (sender_chat is the channel, no ``from``)."""
    return {"channel_post": _message(chat, None, sender_chat=dict(chat), text=text)}


def anonymous_admin_message(chat: JsonDict, text: str) -> JsonDict:
    """An anonymous group admin writes: ``from`` is GroupAnonymousBot, sender_chat the group."""
    content = _text_content(text)
    return {"message": _message(chat, ANONYMOUS_ADMIN, sender_chat=dict(chat), **content)}


def callback(user: JsonDict, message: JsonDict, data: str) -> JsonDict:
    """The user presses the inline button with ``data`` under ``message`` (a sent Message)."""
    return {
        "callback_query": {
            "id": f"query-{next(_query_ids)}",
            "from": dict(user),
            "message": copy.deepcopy(message),
            "chat_instance": f"instance-{message['chat']['id']}",
            "data": data,
        }
    }


def inline_buttons(message: JsonDict) -> list[tuple[str, str]]:
    """(text, callback_data) of every callback button under a message, row by row."""
    markup = message.get("reply_markup") or {}
    return [
        (button["text"], button["callback_data"])
        for row in markup.get("inline_keyboard", [])
        for button in row
        if "callback_data" in button
    ]


def photo_with_caption(user: JsonDict, caption: str, *, chat: JsonDict | None = None) -> JsonDict:
    """The user sends a photo with a caption (in private unless ``chat`` is given)."""
    small_id, small_unique = _file("photo")
    big_id, big_unique = _file("photo")
    photo = [
        {"file_id": small_id, "file_unique_id": small_unique, "width": 90, "height": 90},
        {"file_id": big_id, "file_unique_id": big_unique, "width": 1280, "height": 1280},
    ]
    target = chat if chat is not None else private_chat(user)
    return {"message": _message(target, user, photo=photo, caption=caption)}


def sticker(user: JsonDict) -> JsonDict:
    """The user sends a sticker in private."""
    file_id, unique_id = _file("sticker")
    content = {
        "file_id": file_id,
        "file_unique_id": unique_id,
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "type": "regular",
        "emoji": "👍",
    }
    return {"message": _message(private_chat(user), user, sticker=content)}


def voice(user: JsonDict, duration: int = 3) -> JsonDict:
    """The user sends a voice note in private."""
    file_id, unique_id = _file("voice")
    content = {
        "file_id": file_id,
        "file_unique_id": unique_id,
        "duration": duration,
        "mime_type": "audio/ogg",
    }
    return {"message": _message(private_chat(user), user, voice=content)}


def location(user: JsonDict, lat: float, lon: float) -> JsonDict:
    """The user shares a location in private."""
    content = {"latitude": lat, "longitude": lon}
    return {"message": _message(private_chat(user), user, location=content)}


def contact(user: JsonDict, phone_number: str = "+390212345678") -> JsonDict:
    """The user shares their own contact in private."""
    content = {
        "phone_number": phone_number,
        "first_name": user["first_name"],
        "user_id": user["id"],
    }
    return {"message": _message(private_chat(user), user, contact=content)}


def my_chat_member(
    chat: JsonDict,
    user: JsonDict,
    old_status: str,
    new_status: str,
    *,
    bot: JsonDict | None = None,
) -> JsonDict:
    """``user`` changes the bot's status in ``chat`` (added, promoted, removed, blocked).

    In a private chat (``private_chat(user)``) a new status of "kicked" means the user blocked
    the bot and "member" that they unblocked it.
    """
    bot_user = bot if bot is not None else DEFAULT_BOT_USER
    return {
        "my_chat_member": {
            "chat": dict(chat),
            "from": dict(user),
            "date": _now(),
            "old_chat_member": chat_member_json(bot_user, old_status),
            "new_chat_member": chat_member_json(bot_user, new_status),
        }
    }


def with_update_id(update: JsonDict, update_id: int | None = None) -> JsonDict:
    """A copy of ``update`` with an ``update_id`` (the next of a module counter by default)."""
    stamped = copy.deepcopy(update)
    stamped["update_id"] = update_id if update_id is not None else next(_update_ids)
    return stamped
