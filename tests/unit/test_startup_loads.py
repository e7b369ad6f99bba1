"""What a start loads once CACHE_DIR and the database are ready: no numpy, no py3langid, no
Alembic. Each is needed only when there is something to build or migrate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bot.coach import load_checklist
from storage.migrate import declared_head, head_revision, upgrade

# numpy and py3langid build the language model's copy in CACHE_DIR (a first start only),
# Alembic migrates a database that is behind, wordfreq builds the frequency tries.
NOT_AT_START = ("numpy", "py3langid", "alembic", "mako", "wordfreq", "matplotlib")

# `postcoach run` up to polling: texts, migrations, the checklist from CACHE_DIR, the app.
START = """
import json, sys
from bot.app import build_application, settle_heap
from bot.coach import load_checklist
from bot.settings import Settings
from bot.texts.catalog import load_texts
from storage.migrate import upgrade

settings = Settings(_env_file=None)
texts = load_texts(settings.default_language)
upgrade(settings.database_url)
checklist = load_checklist(model_cache=settings.cache_dir)
build_application(settings, texts=texts, checklist=checklist)
settle_heap()
review = checklist.review("Oggi abbiamo consegnato il progetto della scuola di Bologna.")
print(json.dumps({"modules": sorted(sys.modules), "language": review.language}))
"""


def test_a_start_with_a_ready_cache_and_database_loads_no_builder(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'postcoach.sqlite3'}"
    cache = tmp_path / "cache"
    upgrade(url)
    load_checklist(model_cache=cache)  # the first start: fills CACHE_DIR
    env = {
        **os.environ,
        "BOT_TOKEN": "123456:TEST-token",
        "DATABASE_URL": url,
        "CACHE_DIR": str(cache),
    }
    # A fresh interpreter: this test process has imported everything already.
    output = subprocess.run(
        [sys.executable, "-c", START], check=True, capture_output=True, text=True, env=env
    ).stdout
    started = json.loads(output.splitlines()[-1])
    assert {name.split(".")[0] for name in started["modules"]} & set(NOT_AT_START) == set()
    assert started["language"] == "it"  # the model answers, mapped from CACHE_DIR


def test_the_declared_head_is_alembics_head() -> None:
    assert declared_head() == head_revision()
