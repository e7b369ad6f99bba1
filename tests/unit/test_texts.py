"""The texts in prompts/: complete, consistent across languages, safely rendered."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from bot.texts.catalog import Texts, load_texts, template_placeholders, texts_directory
from bot.texts.schema import Template, TextsError

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
        # A text with plural forms is one key: each language has the forms it needs.
        if isinstance(node, dict) and "plural" not in node:
            return set().union(*(keys(v, f"{prefix}{k}.") for k, v in node.items()))
        return {prefix.rstrip(".")}

    assert keys(it) == keys(en)
    assert len(keys(it)) > 10


def test_every_text_has_the_same_placeholders_in_both_languages(texts: Texts) -> None:
    for text_id in texts.ids():
        it, en = texts.template("it", text_id), texts.template("en", text_id)
        assert template_placeholders(it) == template_placeholders(en)


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


def test_a_key_given_twice_stops_loading_naming_the_file_and_the_key(tmp_path: Path) -> None:
    directory = _copy_texts(tmp_path)
    path = directory / "it.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("start:\n", "start:\n  welcome: Ciao\n", 1), encoding="utf-8")
    with pytest.raises(TextsError, match=r"it\.yaml: line \d+: key 'welcome' appears twice"):
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


# Words that change with the number: after "1" they must be singular. A text that renders
# "1 secondi" or "1 drafts" is built by concatenation instead of its plural forms.
_PLURAL_NOUNS = re.compile(
    r"\b1 (secondi|minuti|giorni|settimane|bozze|riscritture|revisioni|temi|caratteri|correzioni"
    r"|seconds|minutes|days|weeks|drafts|rewrites|reviews|topics|characters|fixes|posts)\b"
)
# Italian joins "su", "di", "a", "da", "in" with the article: "sul", never "su il".
_LOOSE_ARTICLE = re.compile(r"\b(su|di|a|da|in) (il|lo|la|i|gli|le)\b")
# A name or a value placed right after an interjection needs a comma: "Va bene, Marco".
_NAME_PLACEHOLDER_AFTER = re.compile(r"(Va bene|Fine|Ciao|Hi|Okay|Ok) \{name\}")


def _all_forms(template: Template) -> list[str]:
    if isinstance(template, str):
        return [template]
    return [form for nested in template.forms() for form in _all_forms(nested)]


@pytest.mark.parametrize("lang", ["it", "en"])
@pytest.mark.parametrize("value", [0, 1, 2, ""])
def test_every_text_reads_well_with_zero_one_two_and_nothing(
    texts: Texts, lang: str, value: object
) -> None:
    problems = []
    for text_id in sorted(texts.ids()):
        template = texts.template(lang, text_id)
        values = {name: value for name in template_placeholders(template)}
        rendered = texts.plain(lang, text_id, **values)
        if "{" in rendered or "}" in rendered:
            problems.append(f"{text_id}: placeholder left: {rendered!r}")
        if found := _PLURAL_NOUNS.search(rendered):
            problems.append(f"{text_id}: {found.group()!r} with the count 1")
        if lang == "it" and (found := _LOOSE_ARTICLE.search(rendered)):
            problems.append(f"{text_id}: {found.group()!r}")
        if value != "" and re.search(r"\S  \S| [,.;:](\s|$)", rendered, flags=re.M):
            problems.append(f"{text_id}: a stray space: {rendered!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", ["it", "en"])
def test_no_name_follows_an_interjection_without_a_comma(texts: Texts, lang: str) -> None:
    for text_id in texts.ids():
        for form in _all_forms(texts.template(lang, text_id)):
            assert not _NAME_PLACEHOLDER_AFTER.search(form), text_id


def test_plural_forms_follow_the_count(texts: Texts) -> None:
    one = texts.render("it", "review.top_fixes", count=1)
    three = texts.render("it", "review.top_fixes", count=3)
    assert "correzione che conta" in one
    assert "tre correzioni" in three
    assert texts.render("en", "profile.goal_value", goal=1) == "1 post a week"
    assert texts.render("en", "profile.goal_value", goal=3) == "3 posts a week"


def test_a_plural_text_needs_its_count(texts: Texts) -> None:
    with pytest.raises(TypeError, match="plural"):
        texts.raw("it", "review.top_fixes")


def test_plural_forms_must_agree_on_placeholders(tmp_path: Path) -> None:
    directory = _copy_texts(tmp_path)
    _edit(
        directory / "en.yaml",
        {"review.top_fixes": {"plural": "count", "one": "The fix", "other": "The {number} fixes"}},
    )
    with pytest.raises(TextsError, match=r"en\.yaml: review\.top_fixes: placeholders"):
        load_texts(directory=directory)
