"""A fake OpenAI-compatible chat-completions server on 127.0.0.1, for the rewrite tests.

Nothing here reaches the internet. ``FakeLLMServer`` answers ``POST /v1/chat/completions``
the way a hosted or local model server would, and can be told to answer slowly, fail, send
back something that is not JSON, or make up facts.
"""

from tests.fakellm.server import FakeLLMServer, ModelCall, draft_of

__all__ = ["FakeLLMServer", "ModelCall", "draft_of"]
