"""What start-up imports: the heavy libraries a feature needs only when first used stay out."""

from __future__ import annotations

import json
import subprocess
import sys

# Loaded when first used: the chart (matplotlib, and Pillow under it) at the first /stats
# picture, the webhook server (starlette, uvicorn) by webhook mode or HEALTH_PORT only.
NOT_AT_START = ("matplotlib", "PIL", "openai", "starlette", "uvicorn")


def _modules_after(statement: str) -> set[str]:
    # A fresh interpreter: this test process has imported everything already.
    code = f"import json, sys; {statement}; print(json.dumps(sorted(sys.modules)))"
    output = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return set(json.loads(output.splitlines()[-1]))


def _imported_after(statement: str) -> set[str]:
    return {name.split(".")[0] for name in _modules_after(statement)}


def test_the_composition_root_imports_no_chart_nor_webhook_server() -> None:
    assert _imported_after("import bot.app") & set(NOT_AT_START) == set()


def test_the_chart_module_loads_matplotlib_only_to_draw() -> None:
    assert _imported_after("import bot.stats.chart") & {"matplotlib", "PIL"} == set()


def test_a_sqlite_bot_never_loads_the_postgresql_dialect() -> None:
    # The unit of work imports it for its first INSERT on PostgreSQL only (~2 MB).
    loaded = _modules_after("import bot.app, bot.__main__, storage.uow, storage.database")
    assert "sqlalchemy.dialects.sqlite" in loaded
    assert "sqlalchemy.dialects.postgresql" not in loaded
