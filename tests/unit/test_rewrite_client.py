"""The chat-completions client against a fake OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.rewrite.client import ChatClient, ModelError, clean_answer
from tests.fakellm import FakeLLMServer

KEY = "sk-unit-0123456789abcdef"
MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Rewrite:\n<<<\nHello world\n>>>"},
]


@pytest.fixture
async def client(llm: FakeLLMServer) -> AsyncIterator[ChatClient]:
    """A client with a key and a short time-out."""
    client = ChatClient(llm.base_url, "fake-model", api_key=KEY, timeout_seconds=0.5)
    yield client
    await client.aclose()


async def test_a_normal_answer_is_the_content_of_the_first_choice(
    client: ChatClient, llm: FakeLLMServer
) -> None:
    assert await client.complete(MESSAGES) == "Hello world"
    [call] = llm.calls
    assert call.path == "/v1/chat/completions"
    assert call.headers["authorization"] == f"Bearer {KEY}"
    assert call.body == {"model": "fake-model", "messages": MESSAGES}


async def test_without_a_key_no_authorization_header_is_sent(llm: FakeLLMServer) -> None:
    client = ChatClient(llm.base_url + "/", "local-model")
    try:
        assert await client.complete(MESSAGES) == "Hello world"
    finally:
        await client.aclose()
    assert "authorization" not in llm.calls[0].headers


async def test_a_slow_answer_times_out(client: ChatClient, llm: FakeLLMServer) -> None:
    llm.answer_slowly("Too late", seconds=3)
    started = time.monotonic()
    with pytest.raises(ModelError) as raised:
        await client.complete(MESSAGES)
    assert raised.value.kind == "timeout"
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("status", [400, 401, 429, 500, 503])
async def test_an_http_error_is_a_server_error(
    client: ChatClient, llm: FakeLLMServer, status: int
) -> None:
    llm.fail(status)
    with pytest.raises(ModelError) as raised:
        await client.complete(MESSAGES)
    assert raised.value.kind == "server"


@pytest.mark.parametrize(
    "body",
    [
        "<html>not json</html>",
        "{}",
        '{"choices": []}',
        '{"choices": [{"message": {"content": null}}]}',
        '{"choices": [{"message": {"content": "   "}}]}',
        '{"choices": [{"message": {"content": "Cut"}, "finish_reason": "length"}]}',
        "[1, 2]",
    ],
)
async def test_a_malformed_answer_is_reported_as_such(
    client: ChatClient, llm: FakeLLMServer, body: str
) -> None:
    llm.answer_malformed(body)
    with pytest.raises(ModelError) as raised:
        await client.complete(MESSAGES)
    assert raised.value.kind == "malformed"


async def test_content_parts_are_joined(client: ChatClient, llm: FakeLLMServer) -> None:
    llm.answer_malformed(
        '{"choices": [{"message": {"content": [{"type": "text", "text": "One "},'
        ' {"type": "text", "text": "two"}]}}]}'
    )
    assert await client.complete(MESSAGES) == "One two"


async def test_an_unreachable_server_is_a_server_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens there any more.
    client = ChatClient(f"http://127.0.0.1:{port}/v1", "m", timeout_seconds=2)
    try:
        with pytest.raises(ModelError) as raised:
            await client.complete(MESSAGES)
    finally:
        await client.aclose()
    assert raised.value.kind == "server"


async def test_failures_are_logged_without_the_key(
    client: ChatClient, llm: FakeLLMServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for fault in (lambda: llm.fail(500), lambda: llm.answer_malformed()):
        fault()
        with pytest.raises(ModelError):
            await client.complete(MESSAGES)
    assert "HTTP 500" in caplog.text
    assert KEY not in caplog.text


async def test_the_client_uses_the_transport_it_is_given() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url == "http://model.invalid/v1/chat/completions"
        return httpx.Response(200, json={"choices": [{"message": {"content": "Ok"}}]})

    client = ChatClient("http://model.invalid/v1", "m", transport=httpx.MockTransport(handler))
    try:
        assert await client.complete(MESSAGES) == "Ok"
    finally:
        await client.aclose()


@pytest.mark.parametrize(
    ("content", "cleaned"),
    [
        ("  A post.  ", "A post."),
        ("<think>Let me see…</think>\nA post.", "A post."),
        ("```\nA post.\n```", "A post."),
        ("```text\nA post.\nSecond line.\n```", "A post.\nSecond line."),
        ('"A post."', "A post."),
        ("«Un post.»", "Un post."),
        ('"Quoted" and more "quoted"', '"Quoted" and more "quoted"'),
    ],
)
def test_clean_answer(content: str, cleaned: str) -> None:
    assert clean_answer(content) == cleaned
