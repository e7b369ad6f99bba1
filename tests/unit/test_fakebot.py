"""The fake Bot API behaves like Telegram, over HTTP and in-process alike.

Most tests drive a real python-telegram-bot ``Bot`` through both front ends (the ``api``
fixture is parametrised), which also proves that every answer parses into PTB's objects.
"""

import asyncio
import datetime as dtm
import functools
import json
import struct
import threading
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    ChatMemberAdministrator,
    ChatMemberMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import Application, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest

from tests.fakebot import (
    EntityParseError,
    FakeBotServer,
    FakeTelegram,
    RecordingRequest,
    callback,
    command,
    group_text,
    inline_buttons,
    make_group,
    make_user,
    my_chat_member,
    parse_html,
    private_chat,
    private_text,
)

# PTB 22 warns that RetryAfter.retry_after will become a timedelta; both forms are handled.
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")

ANNA = make_user(4242, "Anna", "it")
MARCO = make_user(5151, "Marco", "it")
STUDIO = make_group(-1001234567890, "Studio Rossi")


@dataclass
class Api:
    """A fake world and a PTB Bot connected to it through one front end."""

    telegram: FakeTelegram
    bot: Bot


@pytest.fixture(scope="module")
def shared_server() -> Iterator[FakeBotServer]:
    # One server for the module: stopping uvicorn costs 0.2 s, resetting the world nothing.
    with FakeBotServer() as running:
        yield running


@pytest.fixture
def server(shared_server: FakeBotServer) -> FakeBotServer:
    shared_server.reset()
    return shared_server


@pytest.fixture(params=["http", "in-process"])
async def api(request: pytest.FixtureRequest, shared_server: FakeBotServer) -> AsyncIterator[Api]:
    telegram = FakeTelegram()
    telegram.push_update(private_text(ANNA, "ciao"))
    if request.param == "http":
        shared_server.reset(telegram)
        bot = Bot(
            telegram.token,
            base_url=shared_server.base_url,
            base_file_url=shared_server.base_file_url,
            # Plain HTTP on loopback: skipping the CA bundle saves 50 ms per client.
            request=HTTPXRequest(httpx_kwargs={"verify": False}),
            get_updates_request=HTTPXRequest(httpx_kwargs={"verify": False}),
        )
        async with bot:
            yield Api(telegram, bot)
    else:
        bot = Bot(
            telegram.token,
            request=RecordingRequest(telegram),
            get_updates_request=RecordingRequest(telegram),
        )
        async with bot:
            yield Api(telegram, bot)


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\xff" * width for _ in range(height)))
    signature = b"\x89PNG\r\n\x1a\n"
    return signature + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def _seconds(error: RetryAfter) -> float:
    value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


# ------------------------------------------------------------------- through a real PTB Bot


async def test_get_me_returns_the_bot_user(api: Api) -> None:
    me = await api.bot.get_me()
    assert me.id == api.telegram.bot_id
    assert me.is_bot
    assert me.username == "postcoach_test_bot"


async def test_html_message_arrives_as_plain_text_with_entities(api: Api) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Rivedi", callback_data="review.x")]])
    message = await api.bot.send_message(
        ANNA["id"], "<b>Ciao</b> Anna &amp; co", parse_mode=ParseMode.HTML, reply_markup=keyboard
    )
    assert message.text == "Ciao Anna & co"
    assert message.text_html == "<b>Ciao</b> Anna &amp; co"
    assert message.reply_markup == keyboard
    assert message.from_user is not None
    assert message.from_user.id == api.telegram.bot_id
    [sent] = api.telegram.sent_messages(ANNA["id"])
    assert (sent.text, sent.plain_text) == ("<b>Ciao</b> Anna &amp; co", "Ciao Anna & co")
    assert sent.message_id == message.message_id


async def test_message_ids_count_per_chat_after_the_users_messages(api: Api) -> None:
    [hello] = api.telegram.pending_updates()
    first = await api.bot.send_message(ANNA["id"], "uno")
    second = await api.bot.send_message(ANNA["id"], "due")
    assert first.message_id == hello["message"]["message_id"] + 1
    assert second.message_id == first.message_id + 1


async def test_malformed_html_raises_bad_request(api: Api) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities: unsupported start tag"):
        await api.bot.send_message(ANNA["id"], "1 < 2", parse_mode=ParseMode.HTML)
    assert api.telegram.sent_messages() == []


async def test_unescaped_ampersand_is_refused(api: Api) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await api.bot.send_message(ANNA["id"], "R&D", parse_mode=ParseMode.HTML)


async def test_injected_429_raises_retry_after_with_its_delay(api: Api) -> None:
    api.telegram.fail("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as raised:
        await api.bot.send_message(ANNA["id"], "ciao")
    assert _seconds(raised.value) == 7
    await api.bot.send_message(ANNA["id"], "ciao")  # times=1: the next call succeeds


async def test_blocked_user_raises_forbidden(api: Api) -> None:
    api.telegram.block_user(ANNA["id"])
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await api.bot.send_message(ANNA["id"], "ciao")


async def test_injected_403_and_502_raise_forbidden_and_network_error(api: Api) -> None:
    api.telegram.fail("sendMessage", 403, "Forbidden: user is deactivated")
    api.telegram.fail("sendMessage", 502)
    with pytest.raises(Forbidden, match=r"(?i)user is deactivated"):
        await api.bot.send_message(ANNA["id"], "ciao")
    with pytest.raises(NetworkError, match=r"(?i)bad gateway"):
        await api.bot.send_message(ANNA["id"], "ciao")


async def test_wrong_token_raises_invalid_token(api: Api) -> None:
    bot = Bot("999:AAwrongwrongwrong", request=RecordingRequest(api.telegram))
    with pytest.raises(InvalidToken):
        await bot.get_me()


async def test_long_poll_returns_an_update_pushed_while_waiting(api: Api) -> None:
    await api.bot.get_updates(offset=-1, timeout=0)  # confirm earlier updates except one
    [old] = await api.bot.get_updates(timeout=0)
    asyncio.get_running_loop().call_later(
        0.2, api.telegram.push_update, private_text(ANNA, "bozza")
    )
    started = time.monotonic()
    updates = await api.bot.get_updates(offset=old.update_id + 1, timeout=5)
    assert 0.1 < time.monotonic() - started < 2
    assert [u.message.text for u in updates if u.message] == ["bozza"]
    assert await api.bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()
    assert api.telegram.pending_updates() == []


async def test_document_bytes_are_kept_and_downloadable(api: Api) -> None:
    payload = json.dumps({"drafts": 3}).encode()
    message = await api.bot.send_document(ANNA["id"], payload, filename="export.json")
    assert message.document is not None
    assert message.document.file_name == "export.json"
    assert message.document.mime_type == "application/json"
    [sent] = api.telegram.sent_messages(ANNA["id"])
    assert sent.content == payload
    file = await api.bot.get_file(message.document.file_id)
    assert bytes(await file.download_as_bytearray()) == payload


async def test_photo_sizes_come_from_the_png(api: Api) -> None:
    png = _png(40, 20)
    message = await api.bot.send_photo(
        ANNA["id"], png, caption="<i>grafico</i>", parse_mode="HTML"
    )
    assert (message.photo[-1].width, message.photo[-1].height) == (40, 20)
    assert message.caption == "grafico"
    assert api.telegram.file_content(message.photo[-1].file_id) == png


async def test_rate_limit_answers_429_above_the_rate(api: Api) -> None:
    api.telegram.rate_limit(per_second=5)
    refusals: list[RetryAfter] = []
    for n in range(8):
        try:
            await api.bot.send_message(ANNA["id"], f"messaggio {n}")
        except RetryAfter as error:
            refusals.append(error)
    assert [_seconds(error) for error in refusals] == [1, 1, 1]
    assert api.telegram.rate_limited_count == 3
    assert len(api.telegram.sent_messages()) == 5


async def test_per_chat_rate_limit_spares_other_chats(api: Api) -> None:
    api.telegram.observe(private_text(MARCO, "ciao"))
    api.telegram.rate_limit(None, per_chat_per_second=1)
    await api.bot.send_message(ANNA["id"], "uno")
    with pytest.raises(RetryAfter):
        await api.bot.send_message(ANNA["id"], "due")
    await api.bot.send_message(MARCO["id"], "uno")


async def test_telegram_limits_let_a_short_burst_into_a_private_chat(api: Api) -> None:
    api.telegram.telegram_limits()
    for n in range(3):
        await api.bot.send_message(ANNA["id"], f"messaggio {n}")
    with pytest.raises(RetryAfter):
        await api.bot.send_message(ANNA["id"], "il quarto, subito dopo")
    assert api.telegram.rate_limited_count == 1
    assert len(api.telegram.sent_messages()) == 3


async def test_telegram_limits_allow_twenty_a_minute_in_a_group(api: Api) -> None:
    api.telegram.observe(group_text(MARCO, STUDIO, "buongiorno"))
    api.telegram.telegram_limits()
    for n in range(20):
        await api.bot.send_message(STUDIO["id"], f"messaggio {n}")
    with pytest.raises(RetryAfter) as refused:
        await api.bot.send_message(STUDIO["id"], "il ventunesimo")
    assert _seconds(refused.value) >= 59


async def test_edit_rules_match_telegram(api: Api) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ok", callback_data="ok")]])
    message = await api.bot.send_message(ANNA["id"], "prima", reply_markup=keyboard)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await api.bot.edit_message_text(
            "prima", ANNA["id"], message.message_id, reply_markup=keyboard
        )
    edited = await api.bot.edit_message_text("dopo", ANNA["id"], message.message_id)
    assert not isinstance(edited, bool)
    assert edited.text == "dopo"
    assert edited.reply_markup is None  # an edit without reply_markup drops the keyboard
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await api.bot.edit_message_text("x", ANNA["id"], 999)


async def test_group_membership_drives_members_and_sends(api: Api) -> None:
    api.telegram.push_update(group_text(MARCO, STUDIO, "buongiorno"))
    api.telegram.set_member(STUDIO["id"], MARCO["id"], "creator")
    api.telegram.set_member(STUDIO["id"], api.telegram.bot_id, "administrator")
    admins = await api.bot.get_chat_administrators(STUDIO["id"])
    assert [admin.user.id for admin in admins] == [MARCO["id"], api.telegram.bot_id]
    assert isinstance(admins[1], ChatMemberAdministrator)
    assert isinstance(await api.bot.get_chat_member(STUDIO["id"], 777), ChatMemberMember)
    chat = await api.bot.get_chat(STUDIO["id"])
    assert chat.title == "Studio Rossi"
    api.telegram.push_update(my_chat_member(STUDIO, MARCO, "administrator", "kicked"))
    with pytest.raises(Forbidden, match=r"(?i)bot was kicked from the supergroup chat"):
        await api.bot.send_message(STUDIO["id"], "ciao")


async def test_user_blocking_the_bot_in_an_update_makes_sends_forbidden(api: Api) -> None:
    api.telegram.push_update(my_chat_member(private_chat(ANNA), ANNA, "member", "kicked"))
    with pytest.raises(Forbidden, match=r"(?i)blocked"):
        await api.bot.send_message(ANNA["id"], "ciao")


async def test_unknown_chats_are_not_found_and_group_users_not_reachable(api: Api) -> None:
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await api.bot.send_message(31337, "ciao")
    api.telegram.push_update(group_text(MARCO, STUDIO, "ciao"))
    with pytest.raises(Forbidden, match=r"(?i)can't initiate conversation"):
        await api.bot.send_message(MARCO["id"], "ciao")


async def test_commands_are_kept_per_scope_and_language(api: Api) -> None:
    commands = [BotCommand("start", "Inizia"), BotCommand("review", "Rivedi una bozza")]
    scope = BotCommandScopeAllPrivateChats()
    assert await api.bot.set_my_commands(commands, scope=scope, language_code="it")
    assert await api.bot.get_my_commands(scope=scope, language_code="it") == tuple(commands)
    assert await api.bot.get_my_commands() == ()
    assert await api.bot.delete_my_commands(scope=scope, language_code="it")
    assert api.telegram.commands({"type": "all_private_chats"}, "it") == []


async def test_callback_query_can_be_answered_once(api: Api) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Sì", callback_data="nudge.ok")]])
    sent = await api.bot.send_message(ANNA["id"], "Pronta?", reply_markup=keyboard)
    update = callback(ANNA, sent.to_dict(), "nudge.ok")
    api.telegram.push_update(update)
    assert inline_buttons(sent.to_dict()) == [("Sì", "nudge.ok")]
    query_id = update["callback_query"]["id"]
    assert await api.bot.answer_callback_query(query_id, "Fatto")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await api.bot.answer_callback_query(query_id)


async def test_delay_slows_the_answer(api: Api) -> None:
    api.telegram.delay("getMe", 0.3, times=1)
    started = time.monotonic()
    await api.bot.get_me()
    assert time.monotonic() - started >= 0.3


# ----------------------------------------------------------------------- the core directly


def _send(telegram: FakeTelegram, **params: object) -> tuple[int, dict[str, object]]:
    return telegram.handle(telegram.token, "sendMessage", {"chat_id": ANNA["id"], **params})


@pytest.fixture
def telegram() -> FakeTelegram:
    world = FakeTelegram()
    world.observe(private_text(ANNA, "ciao"))
    return world


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"text": ""}, "Bad Request: message text is empty"),
        ({"text": "<b> </b>", "parse_mode": "HTML"}, "Bad Request: message text is empty"),
        ({"text": "x" * 4097}, "Bad Request: message is too long"),
        (
            {
                "text": "a",
                "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "é" * 33}]]},
            },
            "Bad Request: BUTTON_DATA_INVALID",
        ),
        (
            {"text": "<b>a</i>", "parse_mode": "HTML"},
            "Bad Request: can't parse entities: Unmatched",
        ),
        ({"text": "<div>a</div>", "parse_mode": "HTML"}, 'Unsupported start tag "div"'),
    ],
)
def test_sendmessage_validation(
    telegram: FakeTelegram, params: dict[str, object], description: str
) -> None:
    status, body = _send(telegram, **params)
    assert status == 400
    assert description in str(body["description"])


def test_length_is_counted_after_entity_parsing(telegram: FakeTelegram) -> None:
    status, body = _send(telegram, text="&amp;" * 4096, parse_mode="HTML")
    assert status == 200, body


def test_caption_longer_than_1024_is_refused(telegram: FakeTelegram) -> None:
    status, body = telegram.handle(
        telegram.token,
        "sendPhoto",
        {"chat_id": str(ANNA["id"]), "caption": "x" * 1025},
        {"photo": _png(2, 2)},
    )
    assert (status, body["description"]) == (400, "Bad Request: message caption is too long")


def test_unknown_method_and_case_insensitive_names(telegram: FakeTelegram) -> None:
    assert telegram.handle(telegram.token, "sendTelepathy", {}) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
    )
    assert telegram.handle(telegram.token, "GETME", {})[0] == 200
    assert telegram.calls("getMe")[0].method == "getMe"


def test_form_strings_and_json_values_are_normalised_alike(telegram: FakeTelegram) -> None:
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]}
    form = {"chat_id": str(ANNA["id"]), "text": "42", "reply_markup": json.dumps(markup)}
    _, from_form = telegram.handle(telegram.token, "sendMessage", form)
    json_body = {"chat_id": ANNA["id"], "text": "42", "reply_markup": markup}
    _, from_json = telegram.handle(telegram.token, "sendMessage", json_body)
    assert from_form["result"]["reply_markup"] == from_json["result"]["reply_markup"] == markup
    assert from_form["result"]["text"] == "42"
    assert telegram.calls("sendMessage")[0].params["chat_id"] == ANNA["id"]


def test_wait_for_returns_calls_made_by_another_thread(telegram: FakeTelegram) -> None:
    threading.Timer(0.1, _send, (telegram,), {"text": "dopo"}).start()
    [call] = telegram.wait_for("sendMessage", lambda c: c.text == "dopo", timeout=5)
    assert call.ok
    assert call.result["text"] == "dopo"


def test_wait_for_timeout_lists_the_calls_seen(telegram: FakeTelegram) -> None:
    _send(telegram, text="")
    with pytest.raises(TimeoutError, match=r"sendMessage -> 400 .*message text is empty"):
        telegram.wait_for("sendMessage", lambda c: c.ok, timeout=0.05)


async def test_wait_for_async_does_not_block_the_loop(telegram: FakeTelegram) -> None:
    mark = telegram.mark()
    asyncio.get_running_loop().call_later(0.1, functools.partial(_send, telegram, text="uno"))
    calls = await telegram.wait_for_async("sendMessage", timeout=5, since=mark)
    assert calls[0].text == "uno"


def test_getupdates_conflicts_while_a_webhook_is_set(telegram: FakeTelegram) -> None:
    telegram.handle(telegram.token, "setWebhook", {"url": "https://example.invalid/hook"})
    status, body = telegram.handle(telegram.token, "getUpdates", {})
    assert status == 409
    assert "webhook is active" in body["description"]


def test_html_entities_use_utf16_offsets() -> None:
    parsed = parse_html('👍 <b>ok</b> <a href="https://x.it/?a=1&amp;b=2">link</a>')
    assert parsed.text == "👍 ok link"
    assert parsed.entities == [
        {"type": "bold", "offset": 3, "length": 2},
        {"type": "text_link", "offset": 6, "length": 4, "url": "https://x.it/?a=1&b=2"},
    ]


@pytest.mark.parametrize(
    "text",
    ["<b>open", "</b>", "<span>x</span>", "<b>x</i>", "a < b", "a & b", "<br>"],
)
def test_invalid_telegram_html_is_refused(text: str) -> None:
    with pytest.raises(EntityParseError):
        parse_html(text)


@pytest.mark.parametrize(
    "text",
    [
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s>",
        "<strike>k</strike><del>d</del><code>c</code><pre>p</pre>",
        '<pre><code class="language-python">x = 1</code></pre>',
        '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>',
        "<blockquote expandable>q</blockquote>",
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> &lt;&gt;&quot;&#39;&#x1F600;',
    ],
)
def test_valid_telegram_html_is_accepted(text: str) -> None:
    parse_html(text)


# ----------------------------------------------------------------- whole PTB applications


async def _reply_welcome(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply to /start in HTML."""
    assert update.effective_message is not None
    await update.effective_message.reply_html("<b>Benvenuta</b>, Anna!")


def _application(telegram: FakeTelegram) -> Application:
    application = (
        Application.builder()
        .token(telegram.token)
        .request(RecordingRequest(telegram))
        .get_updates_request(RecordingRequest(telegram))
        .build()
    )
    application.add_handler(CommandHandler("start", _reply_welcome))
    return application


async def test_application_processes_an_observed_update_in_process() -> None:
    telegram = FakeTelegram()
    application = _application(telegram)
    async with application:
        update = Update.de_json(telegram.observe(command(ANNA, "/start")), application.bot)
        await application.process_update(update)
    [sent] = telegram.sent_messages(ANNA["id"])
    assert sent.plain_text == "Benvenuta, Anna!"
    assert sent.parse_mode == "HTML"


async def test_application_polls_and_stops_promptly() -> None:
    telegram = FakeTelegram()
    application = _application(telegram)
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=10)
        telegram.push_update(command(ANNA, "/start", "payload"))
        [call] = await telegram.wait_for_async("sendMessage", timeout=5)
        assert call.result["text"] == "Benvenuta, Anna!"
        started = time.monotonic()
        await application.updater.stop()
        await application.stop()
    assert time.monotonic() - started < 2
    assert telegram.pending_updates() == []


def test_server_serves_files_and_refuses_wrong_tokens(server: FakeBotServer) -> None:
    telegram = server.telegram
    telegram.observe(private_text(ANNA, "ciao"))
    _, body = telegram.handle(
        telegram.token,
        "sendDocument",
        {"chat_id": ANNA["id"]},
        {"document": b"{}"},
    )
    file_id = body["result"]["document"]["file_id"]
    path = telegram.handle(telegram.token, "getFile", {"file_id": file_id})[1]["result"]
    with httpx.Client(base_url=server.url) as client:
        assert client.get(f"/file/bot{telegram.token}/{path['file_path']}").content == b"{}"
        refused = client.post("/bot1:wrong/getMe")
        assert (refused.status_code, refused.json()["description"]) == (401, "Unauthorized")
        as_json = client.post(f"/bot{telegram.token}/getMe", json={})
        assert as_json.json()["result"]["id"] == telegram.bot_id
