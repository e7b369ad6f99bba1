"""The texts in prompts/: complete, consistent across languages, safely rendered."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from bot.texts import Texts, TextsError, load_texts, placeholders, texts_directory

ROOT = Path(__file__).resolve().parents[2]


def _copy_texts(tmp_path: Path) -> Path:
    target = tmp_path / "texts"
    shutil.copytree(texts_directory(), target)
    return target


def _edit(path: Path, change: dict[str, object]) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for dotted, value in change.items():
        *parents, leaf = dotted.split(".")
        node = data
        for part in parents:
            node = node[part]
        if value is None:
            del node[leaf]
        else:
            node[leaf] = value
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_italian_and_english_have_the_same_keys() -> None:
    directory = texts_directory()
    it = yaml.safe_load((directory / "it.yaml").read_text(encoding="utf-8"))
    en = yaml.safe_load((directory / "en.yaml").read_text(encoding="utf-8"))

    def keys(node: object, prefix: str = "") -> set[str]:
        if isinstance(node, dict):
            return set().union(*(keys(v, f"{prefix}{k}.") for k, v in node.items()))
        return {prefix.rstrip(".")}

    assert keys(it) == keys(en)
    assert len(keys(it)) > 10


def test_every_text_has_the_same_placeholders_in_both_languages(texts: Texts) -> None:
    for text_id in texts.ids():
        assert placeholders(texts.raw("it", text_id)) == placeholders(texts.raw("en", text_id))


def test_missing_key_stops_loading_naming_the_file(tmp_path: Path) -> None:
    directory = _copy_texts(tmp_path)
    _edit(directory / "en.yaml", {"start.welcome": None})
    with pytest.raises(TextsError, match=r"en\.yaml: missing key: start\.welcome"):
        load_texts(directory=directory)


def test_unknown_key_stops_loading_naming_the_file(tmp_path: Path) -> None:
    directory = _copy_texts(tmp_path)
    _edit(directory / "it.yaml", {"start.surprise": "ciao"})
    with pytest.raises(TextsError, match=r"it\.yaml: unknown key: start\.surprise"):
        load_texts(directory=directory)


def test_placeholder_mismatch_stops_loading_naming_the_file(tmp_path: Path) -> None:
    directory = _copy_texts(tmp_path)
    _edit(directory / "en.yaml", {"start.welcome": "Hi {nickname}"})
    with pytest.raises(TextsError, match=r"en\.yaml: start\.welcome: placeholders"):
        load_texts(directory=directory)


def test_malformed_placeholder_stops_loading(tmp_path: Path) -> None:
    directory = _copy_texts(tmp_path)
    _edit(directory / "it.yaml", {"help.body": "Apri { graffa"})
    with pytest.raises(TextsError, match=r"it\.yaml: help\.body"):
        load_texts(directory=directory)


def test_render_escapes_user_values(texts: Texts) -> None:
    rendered = texts.render("en", "start.welcome", name="<script>&")
    assert "&lt;script&gt;&amp;" in rendered
    assert "<script>" not in rendered


def test_unknown_language_falls_back_to_default(texts: Texts) -> None:
    assert texts.language_of("de", None) == "it"
    assert texts.language_of("en-GB") == "en"
    assert texts.raw("fr", "help.body") == texts.raw("it", "help.body")


def test_every_text_id_used_in_code_exists(texts: Texts) -> None:
    pattern = re.compile(
        r"""(?:render|plain|raw)\(\s*(?:[\w.]+,\s*)?f?["']([a-z_]+\.[a-z_.{}]+)["']"""
    )
    used: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        used.update(pattern.findall(path.read_text(encoding="utf-8")))
    assert used, "the pattern should find the text ids used by the handlers"
    ids = texts.ids()
    for text_id in used:
        if "{" in text_id:
            prefix = text_id.split("{", 1)[0]
            assert any(i.startswith(prefix) for i in ids), text_id
        else:
            assert text_id in ids, text_id
