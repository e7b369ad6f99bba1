"""The rewrite prompt: validated templates, filled in from the review and the profile."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.rewrite.prompt import (
    Finding,
    PromptsError,
    RewriteRequest,
    load_prompts,
    prompts_directory,
)

PROMPTS = load_prompts()


def _request(language: str = "it", **changes: object) -> RewriteRequest:
    values: dict[str, object] = {
        "draft": "Buongiorno a tutti! Metti like se sei d'accordo!!! {non un segnaposto}",
        "language": language,
        "platform": "LinkedIn",
        "limit": 3000,
        "role": "ingegnere strutturista",
        "audience": ("Clienti", "Colleghi"),
        "topics": ("sismica", "scuole"),
        "findings": (
            Finding("Relazioni, non like", "fail", "Chiede like.", "Chiedi un parere."),
            Finding("Niente aria da spam", "warn", "Tre punti esclamativi.", "Usane uno."),
        ),
    }
    values.update(changes)
    return RewriteRequest(**values)  # type: ignore[arg-type]


def test_messages_carry_the_rules_the_findings_and_the_profile() -> None:
    system, user = PROMPTS.messages(_request())
    assert system["role"] == "system"
    assert "Non inventare mai" in system["content"]
    assert user["role"] == "user"
    prompt = user["content"]
    assert "Piattaforma: LinkedIn (al massimo 3000 caratteri)." in prompt
    assert "L'autore: ingegnere strutturista." in prompt
    assert "A chi si rivolge: Clienti, Colleghi." in prompt
    assert "sismica, scuole" in prompt
    assert (
        "- Relazioni, non like (da correggere): Chiede like. Suggerimento: Chiedi un parere."
        in (prompt)
    )
    assert "- Niente aria da spam (da migliorare): Tre punti esclamativi." in prompt
    # The draft goes in as it is, braces included, between the markers.
    assert "<<<\nBuongiorno a tutti! Metti like se sei d'accordo!!! {non un segnaposto}\n>>>" in (
        prompt
    )


def test_english_drafts_get_the_english_prompt() -> None:
    system, user = PROMPTS.messages(_request("en", draft="Like if you agree!"))
    assert "Write in English" in system["content"]
    assert "Platform: LinkedIn (at most 3000 characters)." in user["content"]
    assert "(to fix)" in user["content"]


def test_missing_profile_and_no_findings_read_naturally() -> None:
    _, user = PROMPTS.messages(_request("en", role=None, audience=(), topics=(), findings=()))
    prompt = user["content"]
    assert "The author: not given." in prompt
    assert "Who they write for: not given." in prompt
    assert "- Nothing important" in prompt


def test_an_unknown_language_falls_back_to_english() -> None:
    system, _ = PROMPTS.messages(_request("de"))
    assert "Write in English" in system["content"]


def test_both_languages_have_the_same_keys() -> None:
    directory = prompts_directory()
    it = yaml.safe_load((directory / "it.yaml").read_text(encoding="utf-8"))
    en = yaml.safe_load((directory / "en.yaml").read_text(encoding="utf-8"))
    assert set(it) == set(en)


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "rewrite"
    shutil.copytree(prompts_directory(), target)
    return target


def _edit(path: Path, key: str, value: str | None) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if value is None:
        del data[key]
    else:
        data[key] = value
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("system", None, r"en\.yaml: missing key: system"),
        ("surprise", "ciao", r"en\.yaml: unknown key: surprise"),
        ("user", "Platform: {platform}", r"en\.yaml: user: placeholders"),
        ("finding", "- {item} {oops", r"en\.yaml: finding"),
    ],
)
def test_a_bad_prompt_file_stops_loading_naming_it(
    tmp_path: Path, key: str, value: str | None, message: str
) -> None:
    directory = _copy(tmp_path)
    _edit(directory / "en.yaml", key, value)
    with pytest.raises(PromptsError, match=message):
        load_prompts(directory)


def test_a_key_given_twice_stops_loading_naming_the_file_and_the_key(tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    path = directory / "en.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "system: Again\n", encoding="utf-8")
    with pytest.raises(PromptsError, match=r"en\.yaml: line \d+: key 'system' appears twice"):
        load_prompts(directory)
