"""A fake Telegram Bot API for postcoach's tests: nothing here ever reaches the internet.

One core, ``FakeTelegram``, holds the fake world and answers calls; two front ends share it:
``FakeBotServer`` (loopback HTTP, for ``postcoach run`` as a subprocess) and
``RecordingRequest`` (in-process, for a PTB ``Application`` in flow tests). ``factories`` builds
the updates a user's story is made of.
"""

from tests.fakebot.core import (
    ANONYMOUS_ADMIN_ID,
    DEFAULT_TOKEN,
    ApiCall,
    ApiError,
    FakeTelegram,
    SentMessage,
    StoredFile,
    Upload,
    chat_member_json,
    normalize_params,
)
from tests.fakebot.entities import EntityParseError, ParsedText, parse_html, strip_html
from tests.fakebot.factories import (
    ANONYMOUS_ADMIN,
    DEFAULT_BOT_USER,
    anonymous_admin_message,
    callback,
    channel_post,
    command,
    contact,
    group_text,
    inline_buttons,
    location,
    make_channel,
    make_group,
    make_user,
    my_chat_member,
    photo_with_caption,
    private_chat,
    private_text,
    sticker,
    voice,
    with_update_id,
)
from tests.fakebot.request import RecordingRequest
from tests.fakebot.server import FakeBotServer, build_app

__all__ = [
    "ANONYMOUS_ADMIN",
    "ANONYMOUS_ADMIN_ID",
    "DEFAULT_BOT_USER",
    "DEFAULT_TOKEN",
    "ApiCall",
    "ApiError",
    "EntityParseError",
    "FakeBotServer",
    "FakeTelegram",
    "ParsedText",
    "RecordingRequest",
    "SentMessage",
    "StoredFile",
    "Upload",
    "anonymous_admin_message",
    "build_app",
    "callback",
    "channel_post",
    "chat_member_json",
    "command",
    "contact",
    "group_text",
    "inline_buttons",
    "location",
    "make_channel",
    "make_group",
    "make_user",
    "my_chat_member",
    "normalize_params",
    "parse_html",
    "photo_with_caption",
    "private_chat",
    "private_text",
    "sticker",
    "strip_html",
    "voice",
    "with_update_id",
]
