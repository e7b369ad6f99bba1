"""Loads the user-facing texts in `prompts/texts/` and renders them.

Every text a user reads lives in `prompts/texts/<lang>.yaml`. Their structure is declared in
`bot/texts/schema.py` and read by `bot.yamlfiles`, so a missing, unknown or repeated key stops
start-up naming the file; placeholders must match between the languages. Handlers refer to
texts by dotted id (`texts.render(lang, "start.welcome", name=...)`).
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping, Sequence
from importlib.resources import files
from pathlib import Path

from babel.lists import format_list
from pydantic import BaseModel

from bot.settings import LANGUAGES, Language
from bot.texts.schema import Plural, Template, TextCatalog, TextsError
from bot.yamlfiles import placeholders, read_model


def _flatten(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, Template]]:
    fields = type(model).model_fields
    for name, value in model:
        key = f"{prefix}{fields[name].alias or name}"
        if isinstance(value, Plural):
            yield key, value
        elif isinstance(value, BaseModel):
            yield from _flatten(value, key + ".")
        else:
            yield key, value


def template_placeholders(template: Template, *, source: str = "") -> frozenset[str]:
    """The `{names}` a template expects (every form's, and a plural's count); a malformed
    template raises TextsError naming `source`."""
    if isinstance(template, Plural):
        found = frozenset({template.plural})
        for form in template.forms():
            found |= template_placeholders(form, source=source)
        return found
    try:
        return placeholders(template)
    except ValueError as exc:
        raise TextsError(f"{source}: {exc}") from None


class Texts:
    """All languages' texts, validated; renders a text id in a language."""

    def __init__(
        self, catalogs: Mapping[Language, Mapping[str, Template]], default: Language
    ) -> None:
        self._catalogs = catalogs
        self.default: Language = default

    def template(self, lang: str, text_id: str) -> Template:
        """A text id's template as the file gives it: a string, or a form per count."""
        catalog = self._catalogs.get(lang) or self._catalogs[self.default]  # type: ignore[call-overload]
        try:
            return catalog[text_id]
        except KeyError:
            raise KeyError(f"unknown text id {text_id!r}") from None

    def raw(self, lang: str, text_id: str, count: object = None) -> str:
        """The template of a text id in a language (the default language if unknown); a
        text with plural forms needs the count that chooses the form."""
        template = self.template(lang, text_id)
        if isinstance(template, Plural):
            if count is None:
                raise TypeError(f"text {text_id!r} has plural forms: give its count")
            return template.form(self._language(lang), {template.plural: count})
        return template

    def _language(self, lang: str) -> str:
        return lang if lang in self._catalogs else self.default

    def _chosen(self, lang: str, text_id: str, values: Mapping[str, object]) -> str:
        template = self.template(lang, text_id)
        if isinstance(template, Plural):
            return template.form(self._language(lang), values)
        return template

    def render(self, lang: str, text_id: str, **values: object) -> str:
        """The text for Telegram's HTML mode; every value is HTML-escaped."""
        escaped = {name: html.escape(str(value), quote=False) for name, value in values.items()}
        return self._chosen(lang, text_id, values).format(**escaped)

    def plain(self, lang: str, text_id: str, **values: object) -> str:
        """The text with values inserted as they are, for the console."""
        return self._chosen(lang, text_id, values).format(**{k: str(v) for k, v in values.items()})

    def source(self, lang: str, source: str) -> str:
        """An item's source ("ING", "VAL", "ING+VAL") said in words."""
        key = {"ING": "ing", "VAL": "val"}.get(source, "both")
        return self.raw(lang, f"sources.{key}")

    def join(self, lang: str, items: Sequence[str]) -> str:
        """Items as a list in the language's way: "lunedì, mercoledì e venerdì"."""
        return str(format_list(list(items), locale=self._language(lang))) if items else ""

    def ids(self) -> frozenset[str]:
        """Every text id."""
        return frozenset(self._catalogs[self.default])

    def language_of(self, *candidates: str | None) -> Language:
        """The first candidate that is a supported language code, else the default."""
        for candidate in candidates:
            if candidate:
                code = candidate.split("-")[0].split("_")[0].lower()
                if code in LANGUAGES:
                    return code
        return self.default


def _read(path: Path) -> dict[str, Template]:
    catalog = read_model(path, TextCatalog, TextsError)
    flat = dict(_flatten(catalog))
    for text_id, template in flat.items():
        template_placeholders(template, source=f"{path}: {text_id}")
    return flat


def texts_directory() -> Path:
    """Where the shipped texts live."""
    return Path(str(files("prompts").joinpath("texts")))


def load_texts(default: Language = "it", directory: Path | None = None) -> Texts:
    """Load every language's texts and check they agree; raise TextsError naming the file."""
    directory = directory or texts_directory()
    catalogs: dict[Language, dict[str, Template]] = {
        lang: _read(directory / f"{lang}.yaml") for lang in LANGUAGES
    }
    reference_lang = LANGUAGES[0]
    reference = catalogs[reference_lang]
    for lang, catalog in catalogs.items():
        for text_id, template in catalog.items():
            expected = template_placeholders(reference[text_id])
            found = template_placeholders(template)
            if found != expected:
                raise TextsError(
                    f"{directory / f'{lang}.yaml'}: {text_id}: placeholders {sorted(found)} "
                    f"differ from {sorted(expected)} in {reference_lang}.yaml"
                )
    return Texts(catalogs, default)
