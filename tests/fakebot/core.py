"""The fake Telegram Bot API: one thread-safe, synchronous state machine.

Both front ends (the loopback HTTP server and the in-process ``RecordingRequest``) hand every
call to ``FakeTelegram.handle``, so a bot gets the same answers whichever way it talks. The core
keeps chats, users, memberships, messages, files, bot commands and the update queue; validates
parameters the way Telegram does (with Telegram's error descriptions); records every call; and
injects faults (errors, slow answers, rate limits) on demand.
"""

import asyncio
import contextlib
import json
import logging
import math
import mimetypes
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.fakebot.entities import EntityParseError, ParsedText, parse_html

_LOGGER = logging.getLogger(__name__)

JsonDict = dict[str, Any]
Handler = Callable[[JsonDict, Mapping[str, "Upload"]], Any]

# Shaped like a token but too short to pass for a real one (secret scanners look for 35).
DEFAULT_TOKEN = "123456789:fake-token-for-postcoach-tests"
ANONYMOUS_ADMIN_ID = 1087968824  # Telegram's GroupAnonymousBot, the sender of anonymous admins
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # getFile refuses bigger files
MAX_UPLOAD_BYTES = 50 * 1024 * 1024

# PTB sends complex values as JSON strings inside the form; these names are decoded.
_JSON_PARAMS = frozenset(
    {
        "allowed_updates",
        "button",
        "caption_entities",
        "commands",
        "entities",
        "explanation_entities",
        "link_preview_options",
        "media",
        "menu_button",
        "message_ids",
        "options",
        "permissions",
        "prices",
        "question_entities",
        "reaction",
        "reply_markup",
        "reply_parameters",
        "results",
        "rights",
        "scope",
    }
)
# Ids and counters arrive as strings; a value that is not numeric (chat_id="@channel") is kept.
_INT_PARAMS = frozenset(
    {
        "cache_time",
        "chat_id",
        "duration",
        "from_chat_id",
        "height",
        "limit",
        "max_connections",
        "message_id",
        "message_thread_id",
        "offset",
        "reply_to_message_id",
        "sender_chat_id",
        "until_date",
        "user_id",
        "width",
    }
)
_FLOAT_PARAMS = frozenset({"latitude", "longitude", "horizontal_accuracy", "timeout"})
_BOOL_PARAMS = frozenset(
    {
        "allow_paid_broadcast",
        "allow_sending_without_reply",
        "disable_content_type_detection",
        "disable_notification",
        "disable_web_page_preview",
        "drop_pending_updates",
        "has_spoiler",
        "is_big",
        "only_if_banned",
        "protect_content",
        "revoke_messages",
        "show_alert",
        "show_caption_above_media",
    }
)
_INT_RE = re.compile(r"-?\d+")
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")

# Telegram leaves these out of getUpdates unless allowed_updates names them explicitly.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_MESSAGE_UPDATES = ("message", "edited_message", "channel_post", "edited_channel_post")
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_MEMBER_STATUSES = frozenset(
    {"creator", "administrator", "member", "left", "kicked", "restricted"}
)
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_QUERY_TOO_OLD = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
# The smallest valid PNG, standing in for photos users send (a test can replace it).
_PLACEHOLDER_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


def _clone(value: Any) -> Any:
    """A deep copy of JSON-shaped data (dicts, lists, scalars), several times faster than
    copy.deepcopy; anything else is immutable here and shared."""
    if isinstance(value, dict):
        return {key: _clone(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clone(item) for item in value]
    return value


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request: its bytes and what the client said it was."""

    content: bytes
    filename: str | None = None
    mime_type: str | None = None


@dataclass(frozen=True)
class ApiCall:
    """One Bot API call as the fake saw it; ``at`` is ``time.monotonic()`` at the answer."""

    method: str
    params: JsonDict
    files_names: tuple[str, ...]
    status: int
    response: JsonDict
    at: float

    @property
    def ok(self) -> bool:
        """Whether Telegram's answer was a success."""
        return bool(self.response.get("ok"))

    @property
    def result(self) -> Any:
        """The ``result`` of a successful answer (None for an error)."""
        return self.response.get("result")

    @property
    def description(self) -> str | None:
        """The error description of a failed answer."""
        description = self.response.get("description")
        return description if isinstance(description, str) else None

    @property
    def chat_id(self) -> int | str | None:
        """The ``chat_id`` parameter, if the call had one."""
        value = self.params.get("chat_id")
        return value if isinstance(value, int | str) else None

    @property
    def text(self) -> str | None:
        """The ``text`` (or ``caption``) parameter exactly as the bot sent it."""
        value = self.params.get("text", self.params.get("caption"))
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class SentMessage:
    """A message the bot sent (sendMessage, sendPhoto or sendDocument) and Telegram accepted.

    ``text`` is the text or caption as sent (HTML included); ``plain_text`` is what the user
    reads (tags stripped, entities unescaped). ``message`` is the Message Telegram answered,
    ``content`` the uploaded bytes of a photo or document.
    """

    method: str
    chat_id: int
    message_id: int
    text: str | None
    plain_text: str | None
    parse_mode: str | None
    reply_markup: JsonDict | None
    message: JsonDict
    file_id: str | None
    content: bytes | None
    at: float


@dataclass(frozen=True)
class StoredFile:
    """A file the fake holds: uploaded by the bot, or seen in an update."""

    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    file_name: str | None = None
    mime_type: str | None = None


class ApiError(Exception):
    """An error answer; raised inside handlers and turned into Telegram's error JSON."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        """Keep the HTTP status, Telegram's description and an optional retry_after."""
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> JsonDict:
        """The JSON body Telegram sends for this error."""
        body: JsonDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


@dataclass
class _Fault:
    method: str  # lower-case method name or "*"
    status: int
    description: str
    retry_after: int | None
    remaining: int | None  # None: until clear_faults()
    chat_id: int | str | None


@dataclass
class _Delay:
    method: str
    seconds: float
    remaining: int | None


@dataclass
class _Window:
    """A sliding window admitting ``capacity`` calls per ``seconds``."""

    capacity: int
    seconds: float
    stamps: deque[float] = field(default_factory=deque)

    @classmethod
    def per_second(cls, rate: float) -> "_Window":
        """A window for ``rate`` calls a second; slow rates get a longer window of one call."""
        if rate <= 0:
            raise ValueError("a rate must be positive")
        seconds = max(1.0, 1.0 / rate)
        return cls(capacity=max(1, int(rate * seconds + 1e-9)), seconds=seconds)

    def wait(self, now: float) -> float:
        """Seconds until one more call fits (0 when it fits now)."""
        while self.stamps and self.stamps[0] <= now - self.seconds:
            self.stamps.popleft()
        if len(self.stamps) < self.capacity:
            return 0.0
        return self.stamps[0] + self.seconds - now

    def take(self, now: float) -> None:
        """Count a call let through at ``now``."""
        self.stamps.append(now)


@dataclass
class _Bucket:
    """A token bucket: ``capacity`` calls at once, then ``rate`` a second (a short burst
    passes, a steady flow above the rate does not: Telegram's limit for one private chat)."""

    capacity: int
    rate: float
    tokens: float = -1.0  # full at the first call
    updated: float = 0.0

    def _refill(self, now: float) -> None:
        if self.tokens < 0:
            self.tokens = float(self.capacity)
        else:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait(self, now: float) -> float:
        """Seconds until one more call fits (0 when it fits now)."""
        self._refill(now)
        # A hair of tolerance: a call arriving at its slot to the microsecond fits.
        if self.tokens >= 1 - 1e-6:
            return 0.0
        return (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        """Count a call let through at ``now``."""
        self._refill(now)
        self.tokens -= 1


@dataclass
class _StoredMessage:
    message: JsonDict
    from_bot: bool
    raw_text: str | None = None


def chat_member_json(user: JsonDict, status: str) -> JsonDict:
    """A ChatMember dict for ``status`` with every field python-telegram-bot requires."""
    if status not in _MEMBER_STATUSES:
        raise ValueError(f"unknown chat member status {status!r}")
    member: JsonDict = {"status": status, "user": dict(user)}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(
            dict.fromkeys(
                (
                    "can_manage_chat",
                    "can_delete_messages",
                    "can_invite_users",
                    "can_post_stories",
                    "can_edit_stories",
                    "can_delete_stories",
                ),
                True,
            )
        )
        member.update(
            dict.fromkeys(
                (
                    "can_be_edited",
                    "is_anonymous",
                    "can_manage_video_chats",
                    "can_restrict_members",
                    "can_promote_members",
                    "can_change_info",
                ),
                False,
            )
        )
    elif status == "restricted":
        member.update(
            dict.fromkeys(
                (
                    "can_change_info",
                    "can_invite_users",
                    "can_pin_messages",
                    "can_send_messages",
                    "can_send_polls",
                    "can_send_other_messages",
                    "can_add_web_page_previews",
                    "can_manage_topics",
                    "can_send_audios",
                    "can_send_documents",
                    "can_send_photos",
                    "can_send_videos",
                    "can_send_video_notes",
                    "can_send_voice_notes",
                    "can_edit_tag",
                ),
                False,
            )
        )
        member["is_member"] = True
        member["until_date"] = 0
    elif status == "kicked":
        member["until_date"] = 0
    return member


def _image_size(content: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG or JPEG, or None when the bytes are neither."""
    if content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) >= 24:
        return int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24], "big")
    if content.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(content):
            if content[i] != 0xFF:
                i += 1
                continue
            marker = content[i + 1]
            length = int.from_bytes(content[i + 2 : i + 4], "big")
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height = int.from_bytes(content[i + 5 : i + 7], "big")
                width = int.from_bytes(content[i + 7 : i + 9], "big")
                return width, height
            i += 2 + length
        return 800, 600
    if content.startswith((b"GIF87a", b"GIF89a", b"RIFF")):
        return 800, 600
    return None


def _update_type(update: Mapping[str, Any]) -> str:
    return next((key for key in update if key != "update_id"), "")


class FakeTelegram:
    """A fake Telegram Bot API for one bot, safe to call from many threads.

    ``handle`` answers a call; the other public methods arrange the world (chats, members,
    blocked users, updates), inject faults and inspect what the bot did.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "postcoach_test_bot",
        bot_first_name: str = "PostCoach",
        strict_html: bool = True,
        first_update_id: int = 1,
    ) -> None:
        """Create an empty world for the bot whose token is ``token``.

        ``strict_html`` rejects a bare ``&`` in HTML text (Telegram prints it literally) so that
        unescaped user text is caught by tests.
        """
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_user: JsonDict = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.strict_html = strict_html
        # One RLock guards all state; the condition wakes long polls and wait_for callers.
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._calls: list[ApiCall] = []
        self._sent: list[SentMessage] = []
        self._async_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._chats: dict[int, JsonDict] = {}
        self._users: dict[int, JsonDict] = {}
        self._members: dict[tuple[int, int], str] = {}
        self._blocked: set[int] = set()
        self._messages: dict[tuple[int, int], _StoredMessage] = {}
        self._next_message_ids: dict[int, int] = {}
        self._files: dict[str, StoredFile] = {}
        self._file_paths: dict[str, str] = {}
        self._file_counter = 0
        self._answered_queries: set[str] = set()
        self._commands: dict[tuple[str, str], list[JsonDict]] = {}
        # (kind, language_code) -> text; kind is "description" or "short_description".
        self._descriptions: dict[tuple[str, str], str] = {}
        self._updates: list[JsonDict] = []
        self._next_update_id = first_update_id
        self._allowed_updates: frozenset[str] | None = None
        self._poll_ticket = 0
        self._wait_epoch = 0  # bumped by release_waiters() to end polls and delays now waiting
        self._active_polls = 0
        self._webhook: JsonDict = {}
        self._faults: list[_Fault] = []
        self._delays: list[_Delay] = []
        self._global_window: _Window | None = None
        self._chat_rate: float | None = None
        self._group_per_minute: int | None = None
        self._chat_burst: int | None = None
        self._chat_windows: dict[int | str, _Window | _Bucket] = {}
        self.rate_limited_count = 0
        self._methods: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler)
            for name, handler in (
                ("getMe", self._get_me),
                ("logOut", self._true),
                ("close", self._true),
                ("getUpdates", self._get_updates),
                ("setWebhook", self._set_webhook),
                ("deleteWebhook", self._delete_webhook),
                ("getWebhookInfo", self._get_webhook_info),
                ("setMyCommands", self._set_my_commands),
                ("getMyCommands", self._get_my_commands),
                ("deleteMyCommands", self._delete_my_commands),
                ("setMyDescription", self._set_my_description),
                ("getMyDescription", self._get_my_description),
                ("setMyShortDescription", self._set_my_short_description),
                ("getMyShortDescription", self._get_my_short_description),
                ("sendMessage", self._send_message),
                ("sendPhoto", self._send_photo),
                ("sendDocument", self._send_document),
                ("editMessageText", self._edit_message_text),
                ("editMessageCaption", self._edit_message_caption),
                ("editMessageReplyMarkup", self._edit_message_reply_markup),
                ("deleteMessage", self._delete_message),
                ("answerCallbackQuery", self._answer_callback_query),
                ("getChat", self._get_chat),
                ("getChatMember", self._get_chat_member),
                ("getChatAdministrators", self._get_chat_administrators),
                ("leaveChat", self._leave_chat),
                ("sendChatAction", self._send_chat_action),
                ("getFile", self._get_file),
            )
        }

    # ----------------------------------------------------------------- answering calls

    def handle(
        self,
        token: str,
        method: str,
        params: Mapping[str, Any],
        files: Mapping[str, bytes | Upload] | None = None,
    ) -> tuple[int, JsonDict]:
        """Answer one Bot API call: return the HTTP status and Telegram's JSON body.

        ``params`` may hold strings exactly as PTB puts them in a form (JSON-encoded complex
        values, numeric ids as text) or already-decoded JSON values. This may block: for a
        long poll, an injected delay, or nothing at all.
        """
        entry = self._methods.get(method.lower())
        name = entry[0] if entry is not None else method
        uploads = {
            key: value if isinstance(value, Upload) else Upload(bytes(value))
            for key, value in (files or {}).items()
        }
        recorded: JsonDict = dict(params)
        try:
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            if entry is None:
                raise ApiError(404, "Not Found: method not found")
            recorded = normalize_params(params)
            self._apply_faults(name, recorded)
            self._apply_delay(name)
            self._apply_rate_limit(name, recorded)
            with self._lock:
                result = _clone(entry[1](recorded, uploads))
            status, body = 200, {"ok": True, "result": result}
        except ApiError as error:
            status, body = error.status, error.body()
        except Exception as exc:
            # A bug in the fake must show up as a failed test, not as a hung bot.
            _LOGGER.exception("fake Bot API crashed on %s", name)
            status = 500
            body = {
                "ok": False,
                "error_code": 500,
                "description": f"Internal Server Error: fake Bot API crashed: {exc!r}",
            }
        self._record(ApiCall(name, recorded, tuple(uploads), status, body, time.monotonic()))
        return status, body

    def may_block(self, method: str, params: Mapping[str, Any]) -> bool:
        """Whether ``handle`` could wait for this call (a long poll or an injected delay).

        Front ends run such calls in a worker thread and answer the others inline.
        """
        name = method.lower()
        if name == "getupdates":
            timeout = params.get("timeout")
            return timeout not in (None, "", 0, "0", 0.0)
        with self._lock:
            return any(delay.method in ("*", name) for delay in self._delays)

    def read_file(self, token: str, file_path: str) -> bytes | None:
        """The bytes served at ``/file/bot<token>/<file_path>``, or None (404)."""
        with self._lock:
            if token != self.token:
                return None
            file_id = self._file_paths.get(file_path)
            return self._files[file_id].content if file_id is not None else None

    # ------------------------------------------------------------------ arranging the world

    def push_update(self, update: Mapping[str, Any]) -> int:
        """Queue an update for getUpdates (learning its chats and users); return its id."""
        with self._lock:
            queued = self._observe(update)
            self._updates.append(queued)
            self._changed.notify_all()
            return int(queued["update_id"])

    def observe(self, update: Mapping[str, Any]) -> JsonDict:
        """Learn the chats, users and messages of an update fed to the bot in-process.

        Returns a copy with a fresh ``update_id``; nothing is queued for getUpdates.
        """
        with self._lock:
            return self._observe(update)

    def pending_updates(self) -> list[JsonDict]:
        """Updates queued and not yet confirmed by a getUpdates offset."""
        with self._lock:
            return _clone(self._updates)

    def register_user(self, user: Mapping[str, Any]) -> None:
        """Make a user known (as if seen in a group), without opening a private chat."""
        with self._lock:
            self._users[int(user["id"])] = dict(user)

    def register_chat(self, chat: Mapping[str, Any]) -> None:
        """Make a chat known, so that sends to it succeed."""
        with self._lock:
            self._chats[int(chat["id"])] = dict(chat)

    def block_user(self, user_id: int) -> None:
        """From now on sends to this user answer 403 "bot was blocked by the user"."""
        with self._lock:
            self._blocked.add(user_id)

    def unblock_user(self, user_id: int) -> None:
        """Undo ``block_user``."""
        with self._lock:
            self._blocked.discard(user_id)

    def set_member(self, chat_id: int, user_id: int, status: str) -> None:
        """Set a member's status in a chat (use ``bot_id`` for the bot's own membership)."""
        if status not in _MEMBER_STATUSES:
            raise ValueError(f"unknown chat member status {status!r}")
        with self._lock:
            self._members[(chat_id, user_id)] = status

    def register_file(
        self,
        file_id: str,
        content: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> StoredFile:
        """Set what getFile and the file URL serve for ``file_id`` (say, a user's photo)."""
        with self._lock:
            existing = self._files.get(file_id)
            folder = "documents" if existing is None else existing.file_path.split("/")[0]
            return self._store_file(
                folder, content, file_name=file_name, mime_type=mime_type, file_id=file_id
            )

    # ----------------------------------------------------------------------- fault injection

    def fail(
        self,
        method: str,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        times: int | None = 1,
        *,
        chat_id: int | str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` ("*" for any) with an error.

        ``times=None`` keeps failing until ``clear_faults``. A 429 gets
        ``parameters.retry_after`` (1 unless given); ``chat_id`` limits the fault to one chat.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            if status == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                description = _DEFAULT_DESCRIPTIONS.get(status, "Unknown error")
        with self._lock:
            self._faults.append(
                _Fault(method.lower(), status, description, retry_after, times, chat_id)
            )

    def delay(self, method: str, seconds: float, times: int | None = None) -> None:
        """Answer ``method`` ("*" for any) ``seconds`` late; ``times=None`` means every call."""
        with self._lock:
            self._delays.append(_Delay(method.lower(), seconds, times))

    def rate_limit(
        self,
        per_second: float | None,
        per_chat_per_second: float | None = None,
        *,
        per_group_per_minute: int | None = None,
        per_chat_burst: int | None = None,
    ) -> None:
        """Answer 429 with retry_after to sends and edits above these rates (sliding windows).

        ``per_second`` caps all chats together; ``per_chat_per_second`` each chat;
        ``per_group_per_minute`` each group or supergroup (Telegram's 20/min). None lifts a
        limit. With ``per_chat_burst`` a private chat takes that many calls at once, then
        ``per_chat_per_second`` (a token bucket, as Telegram tolerates a few quick messages).
        Rejected calls do not count towards the window; ``rate_limited_count`` counts the 429s
        answered.
        """
        with self._lock:
            self._global_window = _Window.per_second(per_second) if per_second else None
            self._chat_rate = per_chat_per_second
            self._group_per_minute = per_group_per_minute
            self._chat_burst = per_chat_burst
            self._chat_windows.clear()

    def telegram_limits(self) -> None:
        """Telegram's flood limits as the bot must respect them: 30 messages a second
        overall; one private chat a burst of 3, then 1 a second; a group 20 a minute."""
        self.rate_limit(30, 1, per_group_per_minute=20, per_chat_burst=3)

    def clear_faults(self) -> None:
        """Remove every injected error, delay and rate limit."""
        with self._lock:
            self._faults.clear()
            self._delays.clear()
            self._global_window = None
            self._chat_rate = None
            self._group_per_minute = None
            self._chat_burst = None
            self._chat_windows.clear()

    def release_waiters(self) -> None:
        """End the long polls (answered with no updates) and injected delays now waiting."""
        with self._lock:
            self._wait_epoch += 1
            self._changed.notify_all()

    # --------------------------------------------------------------------------- inspection

    def calls(self, method: str | None = None) -> list[ApiCall]:
        """Every call recorded so far, or those of one method, in order."""
        with self._lock:
            if method is None:
                return list(self._calls)
            name = self._canonical(method)
            return [call for call in self._calls if call.method == name]

    def mark(self) -> int:
        """A cursor for ``wait_for(since=...)``: only calls after this moment count."""
        with self._lock:
            return len(self._calls)

    def clear_calls(self) -> None:
        """Forget the recorded calls and sent messages (state such as chats is kept)."""
        with self._lock:
            self._calls.clear()
            self._sent.clear()

    def sent_messages(self, chat_id: int | None = None) -> list[SentMessage]:
        """Messages the bot sent successfully (text, photos, documents), in order."""
        with self._lock:
            return [sent for sent in self._sent if chat_id is None or sent.chat_id == chat_id]

    def message(self, chat_id: int, message_id: int) -> JsonDict | None:
        """The current state of a message (after edits), or None if absent or deleted."""
        with self._lock:
            stored = self._messages.get((chat_id, message_id))
            return _clone(stored.message) if stored is not None else None

    def file_content(self, file_id: str) -> bytes:
        """The bytes kept for a file id (an uploaded PNG or JSON document, say)."""
        with self._lock:
            return self._files[file_id].content

    def commands(
        self, scope: Mapping[str, Any] | None = None, language_code: str = ""
    ) -> list[JsonDict]:
        """The bot commands set for a scope (default scope if None) and language."""
        with self._lock:
            return _clone(self._commands.get((_scope_key(scope), language_code), []))

    def description(self, kind: str = "description", language_code: str = "") -> str:
        """The bot's description or short description for a language ("" if not set)."""
        with self._lock:
            return self._descriptions.get((kind, language_code), "")

    def member_status(self, chat_id: int, user_id: int) -> str | None:
        """The status set or learnt for a member of a chat, or None."""
        with self._lock:
            return self._members.get((chat_id, user_id))

    @property
    def webhook(self) -> JsonDict:
        """The webhook the bot set (url, secret_token, ...), empty when none."""
        with self._lock:
            return dict(self._webhook)

    @property
    def polling(self) -> bool:
        """Whether a getUpdates long poll is waiting right now."""
        with self._lock:
            return self._active_polls > 0

    def wait_for(
        self,
        method: str,
        predicate: Callable[[ApiCall], bool] | None = None,
        timeout: float = 10.0,
        count: int = 1,
        *,
        since: int = 0,
    ) -> list[ApiCall]:
        """Block until ``count`` calls of ``method`` matching ``predicate`` were answered.

        Returns the first ``count`` of them (counting from the cursor ``since``); raises
        ``TimeoutError`` listing the calls seen. From async code use ``wait_for_async``.
        """
        name = self._canonical(method)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = self._matching(name, predicate, since)
                if len(found) >= count:
                    return found[:count]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(self._timeout_report(name, predicate, timeout, count))
                self._changed.wait(remaining)

    async def wait_for_async(
        self,
        method: str,
        predicate: Callable[[ApiCall], bool] | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - the same signature as wait_for
        count: int = 1,
        *,
        since: int = 0,
    ) -> list[ApiCall]:
        """``wait_for`` for coroutines: waits without blocking the event loop."""
        name = self._canonical(method)
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        waiter = (loop, event)
        deadline = loop.time() + timeout
        with self._lock:
            self._async_waiters.add(waiter)
        try:
            while True:
                event.clear()
                with self._lock:
                    found = self._matching(name, predicate, since)
                if len(found) >= count:
                    return found[:count]
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError(self._timeout_report(name, predicate, timeout, count))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), remaining)
        finally:
            with self._lock:
                self._async_waiters.discard(waiter)

    # ----------------------------------------------------------------------------- internals

    def _canonical(self, method: str) -> str:
        entry = self._methods.get(method.lower())
        return entry[0] if entry is not None else method

    def _matching(
        self, name: str, predicate: Callable[[ApiCall], bool] | None, since: int
    ) -> list[ApiCall]:
        return [
            call
            for call in self._calls[since:]
            if call.method == name and (predicate is None or predicate(call))
        ]

    def _timeout_report(
        self,
        name: str,
        predicate: Callable[[ApiCall], bool] | None,
        timeout: float,
        count: int,
    ) -> str:
        with self._lock:
            calls = list(self._calls)
        condition = " matching the predicate" if predicate is not None else ""
        lines = [f"no {count} {name} call(s){condition} within {timeout}s; calls seen:"]
        shown = calls[-40:]
        if len(calls) > len(shown):
            lines.append(f"  ... {len(calls) - len(shown)} earlier calls")
        for index, call in enumerate(shown, start=len(calls) - len(shown)):
            detail = call.description or call.text or ""
            if len(detail) > 80:
                detail = detail[:77] + "..."
            chat = f" chat_id={call.chat_id}" if call.chat_id is not None else ""
            lines.append(f"  #{index} {call.method} -> {call.status}{chat} {detail!r}")
        if not calls:
            lines.append("  (none)")
        return "\n".join(lines)

    def _record(self, call: ApiCall) -> None:
        with self._lock:
            self._calls.append(call)
            self._changed.notify_all()
            waiters = list(self._async_waiters)
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:
                # The waiter's loop closed under it; nothing is listening any more.
                with self._lock:
                    self._async_waiters.discard((loop, event))

    def _apply_faults(self, name: str, params: JsonDict) -> None:
        with self._lock:
            for fault in self._faults:
                if fault.method not in ("*", name.lower()):
                    continue
                if fault.chat_id is not None and params.get("chat_id") != fault.chat_id:
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                raise ApiError(fault.status, fault.description, fault.retry_after)

    def _apply_delay(self, name: str) -> None:
        seconds = 0.0
        with self._lock:
            for delay in self._delays:
                if delay.method not in ("*", name.lower()):
                    continue
                seconds = delay.seconds
                if delay.remaining is not None:
                    delay.remaining -= 1
                    if delay.remaining <= 0:
                        self._delays.remove(delay)
                break
        if seconds <= 0:
            return
        # Waiting on the condition releases the lock, so other calls are answered meanwhile,
        # and release_waiters() can cut the wait short when a server stops.
        deadline = time.monotonic() + seconds
        with self._changed:
            epoch = self._wait_epoch
            while epoch == self._wait_epoch:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._changed.wait(remaining)

    def _apply_rate_limit(self, name: str, params: JsonDict) -> None:
        # Telegram's flood limits count messages; chat actions are not messages.
        if not name.startswith(("send", "edit")) or name == "sendChatAction":
            return
        with self._lock:
            chat_id = params.get("chat_id")
            windows: list[_Window | _Bucket] = []
            if self._global_window is not None:
                windows.append(self._global_window)
            if isinstance(chat_id, int | str):
                chat_window = self._chat_window(chat_id)
                if chat_window is not None:
                    windows.append(chat_window)
            if not windows:
                return
            now = time.monotonic()
            wait = max(window.wait(now) for window in windows)
            if wait > 0:
                self.rate_limited_count += 1
                retry_after = max(1, math.ceil(wait))
                raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
            for window in windows:
                window.take(now)

    def _chat_window(self, chat_id: int | str) -> _Window | _Bucket | None:
        window: _Window | _Bucket | None = self._chat_windows.get(chat_id)
        if window is not None:
            return window
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        is_group = chat is not None and chat.get("type") in ("group", "supergroup")
        if is_group and self._group_per_minute:
            window = _Window(capacity=self._group_per_minute, seconds=60.0)
        elif self._chat_rate and self._chat_burst:
            window = _Bucket(capacity=self._chat_burst, rate=self._chat_rate)
        elif self._chat_rate:
            window = _Window.per_second(self._chat_rate)
        else:
            return None
        self._chat_windows[chat_id] = window
        return window

    # --------------------------------------------------------------------- learning updates

    def _observe(self, update: Mapping[str, Any]) -> JsonDict:
        copied = _clone(dict(update))
        copied.pop("update_id", None)
        # update_id first, as Telegram orders it, so printed updates read naturally.
        copied = {"update_id": self._next_update_id, **copied}
        self._next_update_id += 1
        self._learn(copied)
        return copied

    def _learn(self, update: JsonDict) -> None:
        for key in _MESSAGE_UPDATES:
            if isinstance(update.get(key), dict):
                self._learn_message(update[key])
        query = update.get("callback_query")
        if isinstance(query, dict):
            self._learn_user(query.get("from"))
            message = query.get("message")
            if isinstance(message, dict) and isinstance(message.get("chat"), dict):
                self._learn_chat(message["chat"])
        for key in ("my_chat_member", "chat_member"):
            change = update.get(key)
            if isinstance(change, dict):
                self._learn_member_change(change)
        for key in ("chat_join_request", "message_reaction"):
            event = update.get(key)
            if isinstance(event, dict):
                self._learn_chat(event.get("chat"))
                self._learn_user(event.get("from", event.get("user")))
        for key in ("inline_query", "chosen_inline_result", "pre_checkout_query", "poll_answer"):
            event = update.get(key)
            if isinstance(event, dict):
                self._learn_user(event.get("from", event.get("user")))

    def _learn_user(self, user: Any) -> None:
        if isinstance(user, dict) and "id" in user:
            self._users.setdefault(int(user["id"]), dict(user))

    def _learn_chat(self, chat: Any) -> None:
        if isinstance(chat, dict) and "id" in chat:
            self._chats[int(chat["id"])] = dict(chat)

    def _learn_message(self, message: JsonDict) -> None:
        chat = message.get("chat")
        if not isinstance(chat, dict):
            return
        self._learn_chat(chat)
        self._learn_user(message.get("from"))
        self._learn_chat(message.get("sender_chat"))
        chat_id = int(chat["id"])
        message_id = int(message.get("message_id", 0))
        if message_id:
            self._next_message_ids[chat_id] = max(
                self._next_message_ids.get(chat_id, 1), message_id + 1
            )
            sender = message.get("from") or {}
            self._messages.setdefault(
                (chat_id, message_id),
                _StoredMessage(_clone(message), from_bot=sender.get("id") == self.bot_id),
            )
        for file in self._files_in(message):
            if file["file_id"] not in self._files:
                placeholder = _PLACEHOLDER_PNG if "width" in file else b""
                self._store_file("incoming", placeholder, file_id=file["file_id"])
        reply = message.get("reply_to_message")
        if isinstance(reply, dict):
            self._learn_message(reply)

    @staticmethod
    def _files_in(message: JsonDict) -> list[JsonDict]:
        files: list[JsonDict] = list(message.get("photo") or [])
        for key in ("document", "voice", "sticker", "audio", "video", "animation", "video_note"):
            if isinstance(message.get(key), dict):
                files.append(message[key])
        return [file for file in files if isinstance(file, dict) and "file_id" in file]

    def _learn_member_change(self, change: JsonDict) -> None:
        chat = change.get("chat")
        self._learn_chat(chat)
        self._learn_user(change.get("from"))
        member = change.get("new_chat_member")
        if not isinstance(chat, dict) or not isinstance(member, dict):
            return
        user = member.get("user") or {}
        self._learn_user(user)
        chat_id, user_id, status = int(chat["id"]), int(user.get("id", 0)), member.get("status")
        if status in _MEMBER_STATUSES:
            self._members[(chat_id, user_id)] = str(status)
        if user_id == self.bot_id and chat.get("type") == "private":
            # In a private chat the bot "kicked" means the user blocked it.
            if status == "kicked":
                self._blocked.add(chat_id)
            else:
                self._blocked.discard(chat_id)

    # -------------------------------------------------------------------- shared validators

    def _chat(self, params: JsonDict) -> JsonDict:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(chat_id, str):
            if chat_id.startswith("@"):
                wanted = chat_id[1:].lower()
                for known in self._chats.values():
                    if str(known.get("username", "")).lower() == wanted:
                        return known
            raise ApiError(400, "Bad Request: chat not found")
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is not None:
            return chat
        if chat_id in self._users:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        raise ApiError(400, "Bad Request: chat not found")

    def _check_can_write(self, chat: JsonDict) -> None:
        chat_id = int(chat["id"])
        kind = str(chat.get("type", "private"))
        if kind == "private":
            if chat_id in self._blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            return
        status = self._members.get((chat_id, self.bot_id))
        if status == "kicked":
            raise ApiError(403, f"Forbidden: bot was kicked from the {kind} chat")
        if status == "left":
            raise ApiError(403, f"Forbidden: bot is not a member of the {kind} chat")

    def _format(
        self, text: Any, parse_mode: Any, entities: Any, *, caption: bool = False
    ) -> ParsedText:
        raw = str(text)
        mode = str(parse_mode).lower() if parse_mode else ""
        if mode == "html":
            try:
                parsed = parse_html(raw, strict_ampersand=self.strict_html)
            except EntityParseError as error:
                raise ApiError(400, f"Bad Request: can't parse entities: {error}") from error
        elif mode in ("", "markdown", "markdownv2"):
            # Markdown is not validated: the bot is expected to use HTML throughout.
            given = entities if isinstance(entities, list) and not mode else []
            parsed = ParsedText(raw, list(given))
        else:
            raise ApiError(400, "Bad Request: unsupported parse_mode")
        limit = MAX_CAPTION_LENGTH if caption else MAX_TEXT_LENGTH
        if len(parsed.text) > limit:
            raise ApiError(
                400,
                "Bad Request: message caption is too long"
                if caption
                else "Bad Request: message is too long",
            )
        return parsed

    def _text(self, params: JsonDict) -> ParsedText:
        text = params.get("text")
        if text is None or text == "":
            raise ApiError(400, "Bad Request: message text is empty")
        parsed = self._format(text, params.get("parse_mode"), params.get("entities"))
        if not parsed.text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        return parsed

    def _caption(self, params: JsonDict) -> ParsedText | None:
        caption = params.get("caption")
        if caption is None or caption == "":
            return None
        return self._format(
            caption, params.get("parse_mode"), params.get("caption_entities"), caption=True
        )

    @staticmethod
    def _inline_markup(params: JsonDict) -> JsonDict | None:
        """Validate reply_markup; return the inline keyboard a Message echoes, if any."""
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise ApiError(400, "Bad Request: can't parse inline keyboard markup JSON object")
            buttons = [button for row in rows for button in row]
            if len(buttons) > MAX_INLINE_BUTTONS:
                raise ApiError(400, "Bad Request: too many inline keyboard buttons")
            for button in buttons:
                _check_inline_button(button)
            return {"inline_keyboard": rows}
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
            for row in rows:
                for button in row:
                    label = button.get("text") if isinstance(button, dict) else button
                    if not isinstance(label, str) or not label:
                        raise ApiError(400, "Bad Request: keyboard button text is empty")
            return None
        if "remove_keyboard" in markup or "force_reply" in markup:
            return None
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")

    def _next_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_ids.get(chat_id, 1)
        self._next_message_ids[chat_id] = message_id + 1
        return message_id

    def _reply_target(self, chat_id: int, params: JsonDict) -> JsonDict | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            target_id = reply.get("message_id")
            allow_missing = bool(reply.get("allow_sending_without_reply"))
            target_chat = reply.get("chat_id", chat_id)
        else:
            target_id = params.get("reply_to_message_id")
            allow_missing = bool(params.get("allow_sending_without_reply"))
            target_chat = chat_id
        if target_id is None:
            return None
        stored = (
            self._messages.get((int(target_chat), int(target_id)))
            if isinstance(target_chat, int)
            else None
        )
        if stored is None:
            if allow_missing:
                return None
            raise ApiError(400, "Bad Request: message to be replied not found")
        target = _clone(stored.message)
        target.pop("reply_to_message", None)  # Telegram nests replies one level only
        return target

    def _new_message(
        self, chat: JsonDict, params: JsonDict, content: JsonDict, raw_text: str | None
    ) -> JsonDict:
        chat_id = int(chat["id"])
        markup = self._inline_markup(params)
        reply_to = self._reply_target(chat_id, params)
        message: JsonDict = {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": _chat_summary(chat),
        }
        if chat.get("type") == "channel":
            message["sender_chat"] = _chat_summary(chat)
        else:
            message["from"] = {
                key: self.bot_user[key] for key in ("id", "is_bot", "first_name", "username")
            }
        if isinstance(params.get("message_thread_id"), int):
            message["message_thread_id"] = params["message_thread_id"]
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message.update(content)
        if markup is not None:
            message["reply_markup"] = markup
        self._messages[(chat_id, message["message_id"])] = _StoredMessage(
            _clone(message), from_bot=True, raw_text=raw_text
        )
        return message

    def _record_sent(
        self,
        method: str,
        message: JsonDict,
        params: JsonDict,
        raw_text: str | None,
        plain_text: str | None,
        file: StoredFile | None = None,
    ) -> None:
        markup = params.get("reply_markup")
        self._sent.append(
            SentMessage(
                method=method,
                chat_id=int(message["chat"]["id"]),
                message_id=int(message["message_id"]),
                text=raw_text,
                plain_text=plain_text,
                parse_mode=params.get("parse_mode"),
                reply_markup=_clone(markup) if isinstance(markup, dict) else None,
                message=_clone(message),
                file_id=file.file_id if file is not None else None,
                content=file.content if file is not None else None,
                at=time.monotonic(),
            )
        )

    def _store_file(
        self,
        folder: str,
        content: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        file_id: str | None = None,
    ) -> StoredFile:
        self._file_counter += 1
        number = self._file_counter
        if file_id is None:
            file_id = f"fake-{folder}-{number:06d}"
        extension = ""
        if file_name and "." in file_name:
            extension = "." + file_name.rsplit(".", 1)[1]
        elif mime_type:
            extension = mimetypes.guess_extension(mime_type) or ""
        old = self._files.get(file_id)
        file_path = old.file_path if old is not None else f"{folder}/file_{number}{extension}"
        unique_id = old.file_unique_id if old is not None else f"fake-unique-{number:06d}"
        stored = StoredFile(file_id, unique_id, file_path, content, file_name, mime_type)
        self._files[file_id] = stored
        self._file_paths[file_path] = file_id
        return stored

    def _input_file(
        self, name: str, params: JsonDict, files: Mapping[str, Upload], folder: str
    ) -> tuple[StoredFile, Upload | None]:
        """Resolve a photo/document parameter: an upload, an attach:// part or a file_id."""
        value = params.get(name)
        upload = files.get(name)
        if upload is None and isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
        if upload is not None:
            if not upload.content:
                raise ApiError(400, "Bad Request: file must be non-empty")
            if len(upload.content) > MAX_UPLOAD_BYTES:
                raise ApiError(413, "Request Entity Too Large")
            mime_type = upload.mime_type
            if not mime_type and upload.filename:
                mime_type = mimetypes.guess_type(upload.filename)[0]
            stored = self._store_file(
                folder, upload.content, file_name=upload.filename, mime_type=mime_type
            )
            return stored, upload
        if isinstance(value, str) and value in self._files:
            return self._files[value], None
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            # The fake never fetches: a URL becomes an empty file with that name.
            file_name = value.rstrip("/").rsplit("/", 1)[-1] or None
            return self._store_file(folder, b"", file_name=file_name), None
        if value is None:
            raise ApiError(400, f"Bad Request: there is no {name} in the request")
        raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    def _stored_for_edit(self, params: JsonDict) -> _StoredMessage:
        chat = self._chat(params)
        self._check_can_write(chat)
        message_id = params.get("message_id")
        if message_id is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        if not isinstance(message_id, int):
            raise ApiError(400, "Bad Request: message to edit not found")
        stored = self._messages.get((int(chat["id"]), message_id))
        if stored is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if not stored.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        return stored

    # ------------------------------------------------------------------------------ methods

    def _true(self, params: JsonDict, files: Mapping[str, Upload]) -> bool:
        return True

    def _get_me(self, params: JsonDict, files: Mapping[str, Upload]) -> JsonDict:
        return dict(self.bot_user)

    def _get_updates(self, params: JsonDict, files: Mapping[str, Upload]) -> list[JsonDict]:
        if self._webhook.get("url"):
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        limit = params.get("limit")
        limit = min(max(limit, 1), 100) if isinstance(limit, int) else 100
        timeout = params.get("timeout")
        timeout = max(float(timeout), 0.0) if isinstance(timeout, int | float) else 0.0
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            # Telegram remembers allowed_updates until a later call names them again.
            self._allowed_updates = frozenset(allowed) if allowed else None
        if isinstance(offset, int) and offset < 0:
            del self._updates[: max(len(self._updates) + offset, 0)]
        elif isinstance(offset, int) and offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        # A newer poll ends an older one with 409, as when two bot instances poll.
        self._poll_ticket += 1
        ticket, epoch = self._poll_ticket, self._wait_epoch
        self._changed.notify_all()
        deadline = time.monotonic() + timeout
        self._active_polls += 1
        try:
            while True:
                if ticket != self._poll_ticket:
                    raise ApiError(409, _DEFAULT_DESCRIPTIONS[409])
                ready = [u for u in self._updates if self._is_allowed(u)][:limit]
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0 or epoch != self._wait_epoch:
                    return ready
                self._changed.wait(remaining)
        finally:
            self._active_polls -= 1

    def _is_allowed(self, update: JsonDict) -> bool:
        kind = _update_type(update)
        if self._allowed_updates is None:
            return kind not in _OPT_IN_UPDATES
        return kind in self._allowed_updates

    def _set_webhook(self, params: JsonDict, files: Mapping[str, Upload]) -> bool:
        url = params.get("url")
        if not url:
            self._webhook = {}
            return True
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_RE.fullmatch(str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if not str(url).startswith(("http://", "https://")):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self._webhook = {key: params[key] for key in params if key != "certificate"}
        return True

    def _delete_webhook(self, params: JsonDict, files: Mapping[str, Upload]) -> bool:
        self._webhook = {}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: JsonDict, files: Mapping[str, Upload]) -> JsonDict:
        info: JsonDict = {
            "url": self._webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        for key in ("max_connections", "allowed_updates"):
            if key in self._webhook:
                info[key] = self._webhook[key]
        return info

    def _set_my_commands(self, params: JsonDict, files: Mapping[str, Upload]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        if len(commands) > 100:
            raise ApiError(400, "Bad Request: too many commands")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(
                str(command.get("command", ""))
            ):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            description = str(command.get("description", ""))
            if not 1 <= len(description) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        key = (_scope_key(params.get("scope")), str(params.get("language_code") or ""))
        if commands:
            self._commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self._commands.pop(key, None)
        return True

    def _get_my_commands(self, params: JsonDict, files: Mapping[str, Upload]) -> list[JsonDict]:
        key = (_scope_key(params.get("scope")), str(params.get("language_code") or ""))
        return self._commands.get(key, [])

    def _delete_my_commands(self, params: JsonDict, files: Mapping[str, Upload]) -> bool:
        key = (_scope_key(params.get("scope")), str(params.get("language_code") or ""))
        self._commands.pop(key, None)
        return True

    def _store_description(self, kind: str, params: JsonDict, limit: int) -> bool:
        text = str(params.get(kind) or "")
        if len(text) > limit:
            raise ApiError(400, f"Bad Request: {kind} is too long")
        language = str(params.get("language_code") or "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise ApiError(400, "Bad Request: invalid language code specified")
        if text:
            self._descriptions[(kind, language)] = text
        else:
            self._descriptions.pop((kind, language), None)
        return True

    def _set_my_description(self, params: JsonDict, files: Mapping[str, Upload]) -> bool:
        return self._store_description("description", params, 512)

    def _set_my_short_description(self, params: JsonDict, files: Mapping[str, Upload]) -> bool:
        return self._store_description("short_description", params, 120)

    def _get_my_description(self, params: JsonDict, files: Mapping[str, Upload]) -> JsonDict:
        language = str(params.get("language_code") or "")
        return {"description": self._descriptions.get(("description", language), "")}

    def _get_my_short_description(self, params: JsonDict, files: Mapping[str, Upload]) -> JsonDict:
        language = str(params.get("language_code") or "")
        return {"short_description": self._descriptions.get(("short_description", language), "")}

    def _send_message(self, params: JsonDict, files: Mapping[str, Upload]) -> JsonDict:
        chat = self._chat(params)
        self._check_can_write(chat)
        parsed = self._text(params)
        content: JsonDict = {"text": parsed.text}
        if parsed.entities:
            content["entities"] = parsed.entities
        raw = str(params["text"])
        message = self._new_message(chat, params, content, raw)
        self._record_sent("sendMessage", message, params, raw, parsed.text)
        return message

    def _send_photo(self, params: JsonDict, files: Mapping[str, Upload]) -> JsonDict:
        chat = self._chat(params)
        self._check_can_write(chat)
        caption = self._caption(params)
        stored, upload = self._input_file("photo", params, files, "photos")
        size = _image_size(stored.content)
        if upload is not None and size is None:
            raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
        width, height = size or (800, 600)
        scale = 90 / max(width, height, 1)
        thumb = self._store_file("photos", stored.content, file_name=stored.file_name)
        content: JsonDict = {
            "photo": [
                {
                    "file_id": thumb.file_id,
                    "file_unique_id": thumb.file_unique_id,
                    "file_size": max(1, len(stored.content) // 10),
                    "width": max(1, round(width * scale)),
                    "height": max(1, round(height * scale)),
                },
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": len(stored.content),
                    "width": width,
                    "height": height,
                },
            ]
        }
        raw = self._add_caption(content, caption, params)
        message = self._new_message(chat, params, content, raw)
        plain = caption.text if caption is not None else None
        self._record_sent("sendPhoto", message, params, raw, plain, stored)
        return message

    def _send_document(self, params: JsonDict, files: Mapping[str, Upload]) -> JsonDict:
        chat = self._chat(params)
        self._check_can_write(chat)
        caption = self._caption(params)
        stored, _ = self._input_file("document", params, files, "documents")
        document: JsonDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
        }
        if stored.file_name:
            document["file_name"] = stored.file_name
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        content: JsonDict = {"document": document}
        raw = self._add_caption(content, caption, params)
        message = self._new_message(chat, params, content, raw)
        plain = caption.text if caption is not None else None
        self._record_sent("sendDocument", message, params, raw, plain, stored)
        return message

    @staticmethod
    def _add_caption(
        content: JsonDict, caption: ParsedText | None, params: JsonDict
    ) -> str | None:
        if caption is None:
            return None
        content["caption"] = caption.text
        if caption.entities:
            content["caption_entities"] = caption.entities
        return str(params["caption"])

    def _edit_message_text(self, params: JsonDict, files: Mapping[str, Upload]) -> Any:
        if params.get("inline_message_id"):
            return True  # inline messages are not tracked; Telegram answers True
        stored = self._stored_for_edit(params)
        message = stored.message
        if "text" not in message:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        parsed = self._text(params)
        # Omitting reply_markup in an edit removes the inline keyboard, as on Telegram.
        markup = self._inline_markup(params)
        if (
            parsed.text == message["text"]
            and parsed.entities == message.get("entities", [])
            and markup == message.get("reply_markup")
        ):
            raise ApiError(400, _NOT_MODIFIED)
        message["text"] = parsed.text
        _set_or_drop(message, "entities", parsed.entities or None)
        _set_or_drop(message, "reply_markup", markup)
        message["edit_date"] = int(time.time())
        stored.raw_text = str(params["text"])
        return message

    def _edit_message_caption(self, params: JsonDict, files: Mapping[str, Upload]) -> Any:
        if params.get("inline_message_id"):
            return True
        stored = self._stored_for_edit(params)
        message = stored.message
        if not any(key in message for key in ("photo", "document", "video", "audio")):
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption = self._caption(params)
        markup = self._inline_markup(params)
        text = caption.text if caption is not None else None
        entities = caption.entities if caption is not None else []
        if (
            text == message.get("caption")
            and entities == message.get("caption_entities", [])
            and markup == message.get("reply_markup")
        ):
            raise ApiError(400, _NOT_MODIFIED)
        _set_or_drop(message, "caption", text)
        _set_or_drop(message, "caption_entities", entities or None)
        _set_or_drop(message, "reply_markup", markup)
        message["edit_date"] = int(time.time())
        stored.raw_text = params.get("caption")
        return message

    def _edit_message_reply_markup(self, params: JsonDict, files: Mapping[str, Upload]) -> Any:
        if params.get("inline_message_id"):
            return True
        stored = self._stored_for_edit(params)
        message = stored.message
        markup = self._inline_markup(params)
        if markup == message.get("reply_markup"):
            raise ApiError(400, _NOT_MODIFIED)
        _set_or_drop(message, "reply_markup", markup)
        message["edit_date"] = int(time.time())
        return message

    def _delete_message(self, params: JsonDict, files: Mapping[str, Upload]) -> bool:
        chat = self._chat(params)
        chat_id = int(chat["id"])
        message_id = params.get("message_id")
        key = (chat_id, message_id if isinstance(message_id, int) else 0)
        stored = self._messages.get(key)
        if stored is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        bot_status = self._members.get((chat_id, self.bot_id))
        if (
            not stored.from_bot
            and chat.get("type") != "private"
            and bot_status not in ("creator", "administrator")
        ):
            raise ApiError(400, "Bad Request: message can't be deleted")
        del self._messages[key]
        return True

    def _answer_callback_query(self, params: JsonDict, files: Mapping[str, Upload]) -> bool:
        query_id = params.get("callback_query_id")
        if not query_id:
            raise ApiError(400, "Bad Request: callback_query_id is empty")
        # Ids never pushed are accepted (flow tests feed updates in-process); a second
        # answer to the same query is refused, as on Telegram.
        if str(query_id) in self._answered_queries:
            raise ApiError(400, _QUERY_TOO_OLD)
        text = params.get("text")
        if isinstance(text, str) and len(text) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self._answered_queries.add(str(query_id))
        return True

    def _get_chat(self, params: JsonDict, files: Mapping[str, Upload]) -> JsonDict:
        chat = dict(self._chat(params))
        chat.setdefault("accent_color_id", 0)
        chat.setdefault("max_reaction_count", 11)
        chat.setdefault(
            "accepted_gift_types",
            {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        )
        return chat

    def _user_json(self, user_id: int) -> JsonDict:
        if user_id == self.bot_id:
            return {key: self.bot_user[key] for key in ("id", "is_bot", "first_name", "username")}
        return self._users.get(
            user_id, {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
        )

    def _get_chat_member(self, params: JsonDict, files: Mapping[str, Upload]) -> JsonDict:
        chat = self._chat(params)
        user_id = params.get("user_id")
        if not isinstance(user_id, int):
            raise ApiError(400, "Bad Request: invalid user_id specified")
        status = self._members.get((int(chat["id"]), user_id), "member")
        return chat_member_json(self._user_json(user_id), status)

    def _get_chat_administrators(
        self, params: JsonDict, files: Mapping[str, Upload]
    ) -> list[JsonDict]:
        chat = self._chat(params)
        chat_id = int(chat["id"])
        if chat.get("type") == "private":
            raise ApiError(400, "Bad Request: there are no administrators in the private chat")
        admins = [
            (status != "creator", user_id, status)
            for (member_chat, user_id), status in self._members.items()
            if member_chat == chat_id and status in ("creator", "administrator")
        ]
        return [
            chat_member_json(self._user_json(user_id), status)
            for _, user_id, status in sorted(admins)
        ]

    def _leave_chat(self, params: JsonDict, files: Mapping[str, Upload]) -> bool:
        chat = self._chat(params)
        if chat.get("type") == "private":
            raise ApiError(
                400, "Bad Request: chat member status can't be changed in private chats"
            )
        self._members[(int(chat["id"]), self.bot_id)] = "left"
        return True

    def _send_chat_action(self, params: JsonDict, files: Mapping[str, Upload]) -> bool:
        chat = self._chat(params)
        self._check_can_write(chat)
        if params.get("action") not in _CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _get_file(self, params: JsonDict, files: Mapping[str, Upload]) -> JsonDict:
        stored = self._files.get(str(params.get("file_id", "")))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if len(stored.content) > MAX_DOWNLOAD_BYTES:
            raise ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise ApiError(400, "Bad Request: can't parse inline keyboard button: text is missing")
    if not button["text"]:
        raise ApiError(400, "Bad Request: BUTTON_TEXT_INVALID")
    actions = set(button) - {"text"}
    if not actions:
        raise ApiError(
            400,
            "Bad Request: can't parse inline keyboard button: "
            "Text buttons are unallowed in the inline keyboard",
        )
    if "callback_data" in button:
        data = button["callback_data"]
        size = len(data.encode("utf-8")) if isinstance(data, str) else 0
        if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
            raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    if "url" in button and not str(button["url"]).startswith(("http://", "https://", "tg://")):
        raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")


def _chat_summary(chat: JsonDict) -> JsonDict:
    keys = ("id", "type", "title", "username", "first_name", "last_name", "is_forum")
    return {key: chat[key] for key in keys if key in chat}


def _set_or_drop(message: JsonDict, key: str, value: Any) -> None:
    if value is None:
        message.pop(key, None)
    else:
        message[key] = value


def _scope_key(scope: Any) -> str:
    if not isinstance(scope, Mapping) or not scope:
        scope = {"type": "default"}
    normalized = {
        key: int(value) if key in ("chat_id", "user_id") and _is_int(value) else value
        for key, value in scope.items()
    }
    return json.dumps(normalized, sort_keys=True)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) or (isinstance(value, str) and bool(_INT_RE.fullmatch(value)))


def normalize_params(params: Mapping[str, Any]) -> JsonDict:
    """Turn form-encoded parameters (everything a string) into the JSON values they stand for.

    Known JSON parameters are decoded, ids and counters become ints when numeric, flags become
    bools. Values that already are JSON values (a JSON request body) pass through.
    """
    normalized: JsonDict = {}
    for name, value in params.items():
        if isinstance(value, str):
            if name in _JSON_PARAMS:
                try:
                    value = json.loads(value)
                except ValueError as error:
                    what = "reply keyboard markup" if name == "reply_markup" else name
                    raise ApiError(400, f"Bad Request: can't parse {what} JSON object") from error
            elif name in _INT_PARAMS and _INT_RE.fullmatch(value):
                value = int(value)
            elif name in _FLOAT_PARAMS:
                with contextlib.suppress(ValueError):
                    value = float(value)
            elif name in _BOOL_PARAMS and value.lower() in ("true", "false", "1", "0"):
                value = value.lower() in ("true", "1")
        normalized[name] = value
    return normalized
