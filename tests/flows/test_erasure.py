"""/delete erases the user from the SQLite file itself: a copy of the database file and its
write-ahead log keeps none of their name, drafts or topics."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.fakebot import command, make_user, private_text
from tests.flows.conftest import Bot

pytestmark = pytest.mark.backends("sqlite")

NAME = "Zorblaxia"
TOPIC = "flibbertigibbet"
DRAFT = (
    "Abbiamo ridotto del 30% i consumi della scuola Quuxmarker di Modena.\n"
    "Secondo me conviene più di quanto si pensi. Voi che ne pensate?"
)
MARKERS = (NAME, TOPIC, "Quuxmarker")


def _files(database_url: str) -> bytes:
    """The bytes a copy of the database would take: the file and its write-ahead log."""
    path = Path(str(make_url(database_url).database))
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def test_delete_leaves_the_name_drafts_and_topics_in_neither_file(
    bot: Bot, database_url: str
) -> None:
    zora = make_user(4201, NAME, language_code="it")
    replies = await bot.replies(command(zora, "/start"))
    await bot.press(zora, replies[-1].message, "profile.set:language:it")
    await bot.replies(private_text(zora, "Ingegnera strutturista"))
    await bot.replies(private_text(zora, f"{TOPIC}, sismica"))
    await bot.replies(command(zora, "/cancel"))
    await bot.replies(private_text(zora, DRAFT))
    stored = _files(database_url)
    assert all(marker.encode() in stored for marker in MARKERS), "nothing to erase was kept"

    [confirm] = await bot.replies(command(zora, "/delete"))
    await bot.press(zora, confirm.message, "privacy.delete:yes")

    left = _files(database_url)
    assert [marker for marker in MARKERS if marker.encode() in left] == []
