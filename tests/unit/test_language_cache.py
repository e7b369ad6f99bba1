"""The language model's cache: the same answers as py3langid's own model (scored without
numpy), rebuilt when damaged, and no harm done when it cannot be written."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml

from bot.coach import language
from bot.coach.language import _cache_files, _fresh, _identifier, _open

CORPUS = Path(__file__).parent / "corpus"
LANGUAGES = ("it", "en")


def _texts() -> list[str]:
    texts = []
    for path in sorted(CORPUS.rglob("*.yaml")):
        texts += [d["text"] for d in yaml.safe_load(path.read_text("utf-8"))["drafts"]]
    return [*texts, "ok", "", "👍🏻 #ai https://example.com", "Ceci n'est pas une pipe"]


@pytest.fixture(autouse=True)
def _forget_loaded_models() -> None:
    _identifier.cache_clear()


def test_the_cached_model_answers_as_py3langid_does(tmp_path: Path) -> None:
    fresh = _fresh(LANGUAGES)
    cached = _identifier(LANGUAGES, tmp_path)
    assert isinstance(cached.nextmove, memoryview)  # mapped from the file
    texts = _texts()
    assert len(texts) > 100
    for text in texts:
        expected_language, expected_confidence = fresh.classify(text)
        got_language, got_confidence = cached.classify(text)
        assert got_language == expected_language
        # py3langid sums in float32, we in double: the last digits may differ.
        assert got_confidence == pytest.approx(expected_confidence, abs=1e-5)


def test_a_damaged_cache_is_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _identifier(LANGUAGES, tmp_path)
    table, arrays = _cache_files(tmp_path, LANGUAGES)
    table.write_bytes(table.read_bytes()[:1000])
    with pytest.raises(ValueError, match="entries"):
        _open(table, arrays)
    _identifier.cache_clear()
    with caplog.at_level(logging.WARNING, logger=language.__name__):
        rebuilt = _identifier(LANGUAGES, tmp_path)
    assert "rebuilding" in caplog.text
    assert rebuilt.classify("Oggi abbiamo consegnato il progetto della scuola")[0] == "it"
    assert table.stat().st_size > 1_000_000


def test_an_unwritable_cache_folder_costs_only_time(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    with caplog.at_level(logging.WARNING, logger=language.__name__):
        identifier = _identifier(LANGUAGES, blocker / "cache")
    assert "not cached" in caplog.text
    assert not isinstance(identifier.nextmove, memoryview)
    assert identifier.classify("Today we shipped the new bridge design")[0] == "en"


def test_a_truncated_arrays_file_is_rebuilt(tmp_path: Path) -> None:
    _identifier(LANGUAGES, tmp_path)
    table, arrays = _cache_files(tmp_path, LANGUAGES)
    arrays.write_bytes(arrays.read_bytes()[:-4])
    with pytest.raises(ValueError, match="bytes"):
        _open(table, arrays)
    _identifier.cache_clear()
    assert _identifier(LANGUAGES, tmp_path).classify("Today we shipped the new bridge")[0] == "en"
    assert isinstance(_open(table, arrays).nextmove, memoryview)
