"""Is the bot alive? `postcoach health` answers it the same way in both modes.

Webhook mode asks the process's own ``/healthz`` (which runs ``SELECT 1``). Polling serves
no HTTP, so the running bot proves it is alive by touching ``HEARTBEAT_FILE`` every
``BEAT_SECONDS`` from its event loop, after a ``SELECT 1`` went through: a file older than
``STALE_AFTER`` means the loop is stuck, the database is gone, or the process is dead.
"""

from __future__ import annotations

import asyncio
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Only names: `postcoach health` runs every 30 s in a container and stays light.
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.context import CoachContext
    from bot.settings import Settings

logger = logging.getLogger(__name__)

BEAT_SECONDS = 30.0
# Three beats missed: one slow beat is not an outage.
STALE_AFTER = 3 * BEAT_SECONDS
REQUEST_TIMEOUT = 5.0
# Addresses that mean "every interface": the check goes through loopback.
_ANY_ADDRESS = ("0.0.0.0", "::", "")  # noqa: S104 - compared, not bound


@dataclass(frozen=True, slots=True)
class Health:
    """The answer of a check: healthy or not, the text (``cli.<reason>``) that says why and
    the values it names."""

    healthy: bool
    reason: str
    values: dict[str, str] = field(default_factory=dict)


async def beat(engine: AsyncEngine, path: Path) -> bool:
    """Touch the heartbeat file when the database answers; True if it was touched."""
    from sqlalchemy import text

    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:
        logger.warning("Heartbeat: the database does not answer (%s)", type(exc).__name__)
        return False
    try:
        await asyncio.to_thread(_touch, path)
    except OSError as exc:
        logger.warning("Heartbeat: cannot touch %s (%s)", path, exc.strerror or exc)
        return False
    return True


def _touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


async def heartbeat(context: CoachContext) -> None:
    """The JobQueue job of polling mode (see the module's docstring)."""
    path = context.application.bot_data.get("heartbeat_file")
    if path is not None:
        await beat(context.application.bot_data["engine"], path)


def check_health(settings: Settings, now: float | None = None) -> Health:
    """What `postcoach health` reports for the bot configured by these settings."""
    if settings.webhook_url is not None:
        return _check_webhook(settings)
    return _check_heartbeat(settings.heartbeat_file, time.time() if now is None else now)


def _check_webhook(settings: Settings) -> Health:
    host = settings.webhook_listen
    host = "127.0.0.1" if host in _ANY_ADDRESS else host
    if ":" in host:
        host = f"[{host}]"
    url = f"http://{host}:{settings.webhook_port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=REQUEST_TIMEOUT) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:
        problem = str(getattr(exc, "reason", "") or exc) or type(exc).__name__
        return Health(False, "health_unreachable", {"url": url, "problem": problem})
    if status == 200:
        return Health(True, "health_ok_webhook", {"url": url})
    return Health(False, "health_failing", {"url": url, "status": str(status)})


def _check_heartbeat(path: Path | None, now: float) -> Health:
    if path is None:
        return Health(False, "health_no_heartbeat")
    try:
        age = now - path.stat().st_mtime
    except OSError:
        return Health(False, "health_never_beat", {"file": str(path)})
    values = {"file": str(path), "age": f"{max(age, 0):.0f}", "limit": f"{STALE_AFTER:.0f}"}
    if age > STALE_AFTER:
        return Health(False, "health_stale", values)
    return Health(True, "health_ok_polling", values)
