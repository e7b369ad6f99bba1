"""The fake chat-completions server: Starlette on uvicorn in a background thread.

Started like the fake Bot API server (``tests/fakebot/server.py``): the socket is bound on
127.0.0.1 to a free port before the thread starts, so the URL is known at once::

    with FakeLLMServer() as llm:
        settings = Settings(llm_base_url=llm.base_url, llm_model="fake-model")
        llm.answer("A better post")          # the next answers
        llm.answer_slowly("…", seconds=3)    # longer than the client's time-out
        llm.fail(500)                        # a server error
        llm.answer_malformed()               # a body that is not JSON

By default it answers with the draft it was sent (the text between ``<<<`` and ``>>>`` of
the prompt), which keeps every fact. Every request is recorded in ``calls``.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.loopback import LoopbackServer

_DRAFT = re.compile(r"<<<\n(.*)\n>>>", re.DOTALL)


def draft_of(messages: list[dict[str, str]]) -> str:
    """The draft quoted in the prompt's last message ("" if there is none)."""
    match = _DRAFT.search(messages[-1]["content"]) if messages else None
    return match.group(1) if match else ""


@dataclass(frozen=True)
class ModelCall:
    """One request as the fake server saw it."""

    path: str
    headers: dict[str, str]
    body: Any

    @property
    def messages(self) -> list[dict[str, str]]:
        """The chat messages of the request."""
        return list(self.body.get("messages", [])) if isinstance(self.body, dict) else []


@dataclass
class _Behaviour:
    answer: str | None = None
    delay: float = 0.0
    status: int = 200
    raw_body: str | None = None
    calls: list[ModelCall] = field(default_factory=list)


def _completion(model: str, content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


class FakeLLMServer:
    """A loopback chat-completions server; a context manager that starts and stops it."""

    def __init__(self, *, host: str = "127.0.0.1") -> None:
        self._loopback = LoopbackServer("fake model server", host=host)
        self._behaviour = _Behaviour()

    # -------------------------------------------------------------- what it answers

    def answer(self, content: str) -> None:
        """Answer every request with this content, at once."""
        self._set(answer=content)

    def answer_slowly(self, content: str, seconds: float) -> None:
        """Answer with this content after waiting `seconds`."""
        self._set(answer=content, delay=seconds)

    def fail(self, status: int = 500) -> None:
        """Answer every request with this HTTP error."""
        self._set(status=status)

    def answer_malformed(self, body: str = "<html>not json</html>") -> None:
        """Answer 200 with a body that is not a chat completion."""
        self._set(raw_body=body)

    def reset(self) -> None:
        """Back to echoing the draft, with no calls recorded."""
        self._behaviour = _Behaviour()

    def _set(self, **changes: Any) -> None:
        calls = self._behaviour.calls
        self._behaviour = _Behaviour(calls=calls, **changes)

    @property
    def calls(self) -> list[ModelCall]:
        """The requests received so far."""
        return list(self._behaviour.calls)

    # -------------------------------------------------------------- serving

    def _app(self) -> Starlette:
        async def completions(request: Request) -> Response:
            behaviour = self._behaviour
            raw = await request.body()
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
            call = ModelCall(request.url.path, dict(request.headers), body)
            behaviour.calls.append(call)
            if behaviour.delay:
                await asyncio.sleep(behaviour.delay)
            if behaviour.status != 200:
                error = {"error": {"message": "the fake model failed", "type": "server_error"}}
                return JSONResponse(error, status_code=behaviour.status)
            if behaviour.raw_body is not None:
                return Response(behaviour.raw_body, media_type="application/json")
            content = behaviour.answer if behaviour.answer is not None else draft_of(call.messages)
            model = body.get("model", "") if isinstance(body, dict) else ""
            return JSONResponse(_completion(model, content))

        return Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])

    @property
    def port(self) -> int:
        """The TCP port the server listens on (only once started)."""
        return self._loopback.port

    @property
    def base_url(self) -> str:
        """The value for LLM_BASE_URL."""
        return f"{self._loopback.url}/v1"

    def start(self) -> FakeLLMServer:
        """Bind the socket and serve in a background thread; return once it accepts calls."""
        self._loopback.start(self._app())
        return self

    def stop(self) -> None:
        """Stop serving and join the thread."""
        self._loopback.stop()

    def __enter__(self) -> FakeLLMServer:
        """Start the server."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()
