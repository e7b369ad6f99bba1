"""The event loop the process runs on: uvloop where it is installed, asyncio's otherwise.

uvloop (libuv underneath) runs the same asyncio code with less overhead per callback, and a
review crosses the loop many times (webhook request, database thread, Bot API request).
Set before any loop is created: `asyncio.run` and PTB's `run_polling` both pick it up.
"""

from __future__ import annotations

import asyncio


def use_fast_event_loop() -> str:
    """Make new event loops uvloop's when it is importable; return which loop it will be."""
    try:
        import uvloop
    except ImportError:  # Windows, or a trimmed install: asyncio's loop works the same
        return "asyncio"
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return "uvloop"
