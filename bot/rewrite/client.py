"""A small client for any OpenAI-compatible chat-completions server (hosted or local).

One POST to `{base_url}/chat/completions`; whatever goes wrong becomes a `ModelError` whose
`kind` the user is told about in words: the server was too slow (`timeout`), failed or could
not be reached (`server`), or answered something that is not a usable text (`malformed`).
The API key travels in the Authorization header only, and nothing here logs a header, a body
or the key (the redacting log formatter hides it anyway).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from typing import Any, Literal

import httpx

logger = logging.getLogger(__name__)

ErrorKind = Literal["timeout", "server", "malformed"]
# Reasoning models served locally often think aloud between these tags first.
_THINKING = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"^```[\w-]*\n(.*)\n```$", re.DOTALL)
_QUOTES = (('"', '"'), ("“", "”"), ("«", "»"))


class ModelError(Exception):
    """The language model gave no usable answer; `kind` says why."""

    def __init__(self, kind: ErrorKind) -> None:
        super().__init__(kind)
        self.kind: ErrorKind = kind


def clean_answer(content: str) -> str:
    """The post inside an answer: no thinking, no code fence, no quotes around it all."""
    text = _THINKING.sub("", content).strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    for opening, closing in _QUOTES:
        inner = text[len(opening) : -len(closing)]
        if (
            len(text) > 2
            and text.startswith(opening)
            and text.endswith(closing)
            and opening not in inner
            and closing not in inner
        ):
            text = inner.strip()
    return text


def _content(data: Any) -> str:
    """The text of the first choice, or ModelError("malformed")."""
    try:
        choice = data["choices"][0]
        content = choice["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise ModelError("malformed") from None
    if isinstance(content, list):
        # Some servers answer with content parts.
        content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
    if not isinstance(content, str) or choice.get("finish_reason") == "length":
        # A post cut off by the token limit is no rewrite.
        raise ModelError("malformed")
    text = clean_answer(content)
    if not text:
        raise ModelError("malformed")
    return text


class ChatClient:
    """Asks a chat-completions endpoint for one answer, within a time limit."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout_seconds: float = 20,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._model = model
        self._timeout = timeout_seconds
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            headers=headers,
            timeout=httpx.Timeout(timeout_seconds),
            transport=transport,
            # The server's URL is the operator's choice; nothing else should steer it.
            follow_redirects=False,
            trust_env=False,
        )

    @property
    def timeout_seconds(self) -> float:
        """How long one answer may take."""
        return self._timeout

    async def complete(self, messages: Sequence[dict[str, str]]) -> str:
        """The model's answer to the messages, cleaned; ModelError if there is none."""
        body = {"model": self._model, "messages": list(messages)}
        try:
            # httpx times each read; this bounds the whole exchange, slow drip included.
            async with asyncio.timeout(self._timeout):
                response = await self._http.post("chat/completions", json=body)
        except (TimeoutError, httpx.TimeoutException):
            logger.warning("the language model did not answer within %s s", self._timeout)
            raise ModelError("timeout") from None
        except httpx.HTTPError as error:
            logger.warning("the language model could not be reached (%s)", type(error).__name__)
            raise ModelError("server") from None
        if response.status_code != httpx.codes.OK:
            logger.warning("the language model answered HTTP %s", response.status_code)
            raise ModelError("server")
        try:
            data = response.json()
        except ValueError:
            logger.warning("the language model's answer is not JSON")
            raise ModelError("malformed") from None
        try:
            return _content(data)
        except ModelError:
            logger.warning("the language model's answer holds no usable text")
            raise

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()
