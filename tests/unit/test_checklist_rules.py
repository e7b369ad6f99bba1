"""One behaviour of the checklist engine per test: rules, counting, scoring, loading."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from bot.coach import (
    ITEM_IDS,
    PLATFORMS,
    Checklist,
    ChecklistError,
    Review,
    detect_language,
    load_checklist,
    weighted_length,
)
from bot.coach.draft import emoji_spans
from bot.coach.engine import default_directory
from bot.coach.readability import flesch, gulpease, italian_counts

REPO = Path(__file__).resolve().parents[2]
PACKAGED = Path(str(default_directory()))


@pytest.fixture
def checklist(packaged_checklist: Checklist) -> Checklist:
    """The packaged checklist (tests/unit/conftest.py)."""
    return packaged_checklist


@pytest.fixture
def prompts_copy(tmp_path: Path) -> Path:
    """A writable copy of prompts/checklist, to break on purpose."""
    target = tmp_path / "checklist"
    shutil.copytree(PACKAGED, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


GOOD_IT = (
    "Il mese scorso abbiamo consegnato il collaudo di un ponte a Trento: 140 m in 9 mesi.\n"
    "Secondo me il segreto è stato il sopralluogo settimanale con il committente.\n"
    "Voi come organizzate i sopralluoghi?"
)


# --- the public contract -------------------------------------------------------------


def test_item_ids_are_the_eleven_public_ids_in_display_order() -> None:
    assert ITEM_IDS == (
        "visibility",
        "clarity",
        "audience",
        "point_of_view",
        "interaction",
        "personal_voice",
        "reputation_focus",
        "relationships_not_likes",
        "spam_hygiene",
        "platform_fit",
        "hook",
    )


def test_platforms_are_the_five_supported_networks() -> None:
    assert PLATFORMS == ("linkedin", "x", "instagram", "facebook", "threads")


def test_review_returns_every_item_in_display_order(review: Callable[..., Review]) -> None:
    result = review(GOOD_IT)
    assert tuple(item.id for item in result.items) == ITEM_IDS


def test_to_dict_has_exactly_the_checklist_json_shape(review: Callable[..., Review]) -> None:
    data = review(GOOD_IT, platform="x").to_dict()
    assert list(data) == ["language", "platform", "score", "items", "top_fixes"]
    assert data["platform"] == "x"
    assert all(
        list(item) == ["id", "status", "reason", "suggestion", "source"] for item in data["items"]
    )
    assert json.loads(json.dumps(data)) == data


def test_every_item_cites_a_source_article(review: Callable[..., Review]) -> None:
    sources = {item.source for item in review(GOOD_IT).items}
    assert sources <= {"ING", "VAL", "ING+VAL"}


def test_unknown_platform_raises_value_error(review: Callable[..., Review]) -> None:
    with pytest.raises(ValueError, match="tiktok"):
        review(GOOD_IT, platform="tiktok")


def test_good_italian_draft_scores_high_with_no_fixes(review: Callable[..., Review]) -> None:
    result = review(GOOD_IT)
    assert result.language == "it"
    assert result.score >= 90
    assert result.top_fixes == ()


def test_coach_package_imports_neither_telegram_nor_sqlalchemy() -> None:
    code = (
        "import sys, bot.coach; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('telegram', 'sqlalchemy')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


# --- languages -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Buongiorno a tutti!", "it"),
        ("Grazie", "it"),
        ("Che ne pensate?", "it"),
        ("Nuovo post sul blog 👉 https://example.com/x", "it"),
        ("Good morning everyone!", "en"),
        ("Thanks", "en"),
        ("What do you think?", "en"),
        ("New blog post 👉 https://example.com/x", "en"),
        ("#BIM #ingegneria", "it"),
        ("", "it"),
    ],
)
def test_detect_language_handles_short_texts(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_reply_language_picks_the_texts_and_draft_language_the_rules(
    review: Callable[..., Review],
) -> None:
    english_reply = review(GOOD_IT, reply_language="en")
    italian_reply = review(GOOD_IT, reply_language="it")
    assert english_reply.language == italian_reply.language == "it"
    assert english_reply.item("clarity").reason.startswith("Easy to read: Gulpease index")
    assert italian_reply.item("clarity").reason.startswith("Si legge bene: indice Gulpease")


def test_draft_language_overrides_detection(review: Callable[..., Review]) -> None:
    result = review(GOOD_IT, draft_language="en")
    assert result.language == "en"
    assert "Flesch" in result.item("clarity").reason


def test_unknown_reply_language_falls_back_to_english(review: Callable[..., Review]) -> None:
    assert review(GOOD_IT, reply_language="de").item("clarity").reason.startswith("Easy")


# --- platform lengths ----------------------------------------------------------------


def test_x_counts_link_as_23_characters() -> None:
    link = "https://example.com/a/very/long/path/that/goes/on/and/on/for/ever"
    assert weighted_length(f"Read {link}", "x") == len("Read ") + 23


def test_x_counts_bare_domain_as_a_link() -> None:
    assert weighted_length("see example.com", "x") == len("see ") + 23


def test_x_counts_emoji_as_2_characters() -> None:
    assert weighted_length("ok 🔥", "x") == 5
    # A family is one emoji however many code points it joins.
    assert weighted_length("👨‍👩‍👧‍👦", "x") == 2


def test_x_counts_cjk_characters_as_2() -> None:
    assert weighted_length("日本", "x") == 4


def test_other_platforms_count_plain_characters() -> None:
    link = "https://example.com/a/very/long/path"
    assert weighted_length(f"ok 🔥 {link}", "linkedin") == len(f"ok 🔥 {link}")


def test_x_post_over_280_weighted_characters_fails_platform_fit(
    review: Callable[..., Review],
) -> None:
    item = review("Secondo me serve più formazione sul cantiere. " * 7, platform="x").item(
        "platform_fit"
    )
    assert item.status == "fail"
    assert "280" in item.reason


def test_linkedin_post_over_3000_characters_fails_platform_fit(
    review: Callable[..., Review],
) -> None:
    text = "Abbiamo consegnato il progetto del ponte in 9 mesi. " * 60
    assert review(text).item("platform_fit").status == "fail"


def test_instagram_more_than_five_hashtags_fails_platform_fit(
    review: Callable[..., Review],
) -> None:
    text = "Il nostro cantiere di Brescia: 85 m³ in una mattina. #a1 #b2 #c3 #d4 #e5 #f6"
    item = review(text, platform="instagram").item("platform_fit")
    assert item.status == "fail"
    assert "6" in item.reason


def test_threads_second_tag_warns_platform_fit(review: Callable[..., Review]) -> None:
    text = "Oggi ho chiuso il collaudo del ponte: 14 mesi di lavoro. #ponti #collaudo"
    assert review(text, platform="threads").item("platform_fit").status == "warn"


# --- hook ----------------------------------------------------------------------------


LONG_OPENING = (
    "In un periodo come questo, segnato da cambiamenti normativi e tecnologici che toccano "
    "ogni parte del nostro settore, dalla progettazione al cantiere fino alla manutenzione, "
    "vale la pena di chiedersi quale sia il ruolo del tecnico. Voi cosa ne pensate?"
)


def test_linkedin_hook_after_fold_fails(review: Callable[..., Review]) -> None:
    item = review(LONG_OPENING, platform="linkedin").item("hook")
    assert item.status == "fail"
    assert "LinkedIn" in item.reason


def test_facebook_has_no_fold_so_a_long_opening_is_not_cut(
    review: Callable[..., Review],
) -> None:
    assert review(LONG_OPENING, platform="facebook").item("hook").status != "fail"


@pytest.mark.parametrize(
    "text", ["Buongiorno a tutti! Oggi parliamo di BIM.", "Hello everyone! Big news today."]
)
def test_greeting_opening_fails_hook(review: Callable[..., Review], text: str) -> None:
    assert review(text).item("hook").status == "fail"


def test_cliche_opening_warns_hook(review: Callable[..., Review]) -> None:
    item = review("I'm thrilled to announce that I joined Acme as a structural engineer!").item(
        "hook"
    )
    assert item.status == "warn"
    assert "thrilled to announce" in item.reason


def test_number_in_first_line_makes_hook_pass(review: Callable[..., Review]) -> None:
    assert review("We cut a client's cloud bill by 58% in three weeks.").item("hook").status == (
        "pass"
    )


def test_emoji_ends_the_first_sentence_of_the_hook(review: Callable[..., Review]) -> None:
    text = "Abbiamo finito il tetto in 3 giorni 🎉 " + "e poi altre cose da dire " * 20
    assert review(text, platform="instagram").item("hook").status == "pass"


# --- relationships, spam -------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Metti like se anche tu pensi che gli ingegneri siano sottopagati!",
        "Tagga 3 colleghi che meritano di più!",
        "Like if you agree: engineers deserve better pay.",
        "Comment YES and I'll send you the checklist.",
        "Great day at the office #like4like #f4f",
    ],
)
def test_engagement_bait_fails_relationships(review: Callable[..., Review], text: str) -> None:
    item = review(text).item("relationships_not_likes")
    assert item.status == "fail"


def test_off_brand_chatter_warns_relationships(review: Callable[..., Review]) -> None:
    text = "Che serata! Pizza, birra e la partita con gli amici di sempre."
    assert review(text).item("relationships_not_likes").status == "warn"


def test_off_brand_words_in_a_work_story_pass_relationships(
    review: Callable[..., Review],
) -> None:
    text = "Dopo il collaudo del cantiere abbiamo festeggiato con una pizza e una birra."
    assert review(text).item("relationships_not_likes").status == "pass"


def test_hashtag_flood_fails_spam_hygiene(review: Callable[..., Review]) -> None:
    tags = " ".join(f"#tag{letter}x" for letter in "abcdefghijklmn")
    item = review(f"Nuovo render del progetto a Como. {tags}", platform="instagram").item(
        "spam_hygiene"
    )
    assert item.status == "fail"
    assert "14" in item.reason


def test_bare_link_fails_spam_hygiene(review: Callable[..., Review]) -> None:
    item = review("Check this out 👉 https://bit.ly/2kX9pQ").item("spam_hygiene")
    assert item.status == "fail"


def test_all_caps_fails_spam_hygiene(review: Callable[..., Review]) -> None:
    item = review("HUGE SALE THIS WEEK ONLY, CALL NOW FOR YOUR WEBSITE").item("spam_hygiene")
    assert item.status == "fail"
    assert "“HUGE”" in item.reason


def test_acronyms_are_not_shouting(review: Callable[..., Review]) -> None:
    text = "Verifica SLV e SLD con NTC e FRP per il CDE del cliente, tutto in BIM."
    assert review(text).item("spam_hygiene").status == "pass"


def test_link_dump_fails_spam_hygiene(review: Callable[..., Review]) -> None:
    text = "My favourite tools: https://a.example.com https://b.example.com https://c.example.com"
    item = review(text).item("spam_hygiene")
    assert item.status == "fail"


def test_emoji_flood_fails_spam_hygiene(review: Callable[..., Review]) -> None:
    assert review("Nuovo ufficio 🎉🎉🎉🥳🥳🥳🍾🍾🍾💼💼").item("spam_hygiene").status == "fail"


def test_repeated_exclamation_marks_warn_spam_hygiene(review: Callable[..., Review]) -> None:
    item = review("Best burger I've ever had!!! Back to the drawings tomorrow.").item(
        "spam_hygiene"
    )
    assert item.status == "warn"
    assert "“!!!”" in item.reason


def test_emoji_spans_count_a_joined_sequence_once() -> None:
    assert len(emoji_spans("👨‍👩‍👧 e 👍🏽 e 1️⃣ e 🇮🇹")) == 4
    assert emoji_spans("plain text, 100% ascii #1") == []


# --- reputation, interaction, voice, point of view -----------------------------------


def test_reputation_focus_skips_without_topics(review: Callable[..., Review]) -> None:
    item = review(GOOD_IT).item("reputation_focus")
    assert item.status == "skip"


def test_reputation_focus_passes_on_a_declared_topic(review: Callable[..., Review]) -> None:
    text = "Abbiamo installato 420 pannelli fotovoltaici. #fotovoltaico #energia"
    item = review(text, topics=["fotovoltaico"]).item("reputation_focus")
    assert item.status == "pass"


def test_reputation_focus_fails_off_topic(review: Callable[..., Review]) -> None:
    item = review(GOOD_IT, topics=["BIM", "digitalizzazione"]).item("reputation_focus")
    assert item.status == "fail"
    assert "“BIM”" in item.reason


def test_skipped_item_does_not_count_in_the_score(review: Callable[..., Review]) -> None:
    without = review(GOOD_IT)
    with_topic = review(GOOD_IT, topics=["collaudo ponti"])
    assert with_topic.item("reputation_focus").status == "pass"
    assert without.score == with_topic.score


def test_question_to_readers_at_the_end_passes_interaction(
    review: Callable[..., Review],
) -> None:
    item = review(GOOD_IT).item("interaction")
    assert item.status == "pass"


def test_rhetorical_opening_question_warns_interaction(review: Callable[..., Review]) -> None:
    text = "Why do small firms hide their phone number? I audited 50 sites: 41 did."
    assert review(text).item("interaction").status == "warn"


def test_no_question_fails_interaction(review: Callable[..., Review]) -> None:
    assert review("We shipped the new plugin today.").item("interaction").status == "fail"


def test_impersonal_text_fails_personal_voice(review: Callable[..., Review]) -> None:
    text = "Acme Engineering Ltd is pleased to announce the opening of its new office."
    assert review(text).item("personal_voice").status == "fail"


def test_corporate_we_alone_warns_personal_voice(review: Callable[..., Review]) -> None:
    text = "Leveraging our platform, we empower enterprises to scale."
    assert review(text).item("personal_voice").status == "warn"


def test_opinion_marker_passes_point_of_view(review: Callable[..., Review]) -> None:
    item = review("Unpopular opinion: most startups don't need Kubernetes.").item("point_of_view")
    assert item.status == "pass"
    assert "Unpopular opinion" in item.reason


def test_motivational_quote_fails_point_of_view(review: Callable[..., Review]) -> None:
    text = "Success is not final, failure is not fatal: it is the courage to continue that counts."
    assert review(text).item("point_of_view").status == "fail"


def test_announcement_without_substance_warns_visibility_with_questions(
    review: Callable[..., Review],
) -> None:
    item = review("Hello everyone! Exciting things are coming soon.").item("visibility")
    assert item.status == "warn"
    assert "which project" in item.suggestion


def test_two_figures_alone_pass_visibility(review: Callable[..., Review]) -> None:
    text = "Da 3 settimane a 4 giorni: il tempo per preparare un'offerta."
    assert review(text).item("visibility").status == "pass"


def test_question_is_not_evidence_of_work(review: Callable[..., Review]) -> None:
    text = "Does anyone know a good structural engineer for a bridge project?"
    assert review(text).item("visibility").status == "fail"


def test_vague_work_mention_warns_visibility(review: Callable[..., Review]) -> None:
    assert review("Nuovo progetto in arrivo, stay tuned!").item("visibility").status == "warn"


# --- clarity -------------------------------------------------------------------------


def test_gulpease_counts_letters_only() -> None:
    words, letters = italian_counts(["l'acqua", "è", "fredda"])
    assert (words, letters) == (4, 13)
    assert gulpease(sentences=1, words=words, letters=letters) == pytest.approx(
        89 + (300 * 1 - 10 * 13) / 4
    )


def test_flesch_reading_ease_follows_the_formula() -> None:
    # "the cat sat": 3 one-syllable words in one sentence.
    assert flesch(1, ["the", "cat", "sat"]) == pytest.approx(206.835 - 1.015 * 3 - 84.6)


def test_jargon_wall_fails_clarity(review: Callable[..., Review]) -> None:
    text = (
        "Leveraging our best-in-class, AI-driven, cloud-native platform, we empower "
        "stakeholders to synergize workflows and unlock actionable insights across the "
        "end-to-end value chain."
    )
    item = review(text).item("clarity")
    assert item.status == "fail"


def test_acronym_soup_fails_clarity(review: Callable[..., Review]) -> None:
    text = "Upgrade a EC2 con FRP per NTC: verifica SLV/SLD, FC e LC2 in CDS e PRO."
    assert review(text).item("clarity").status == "fail"


def test_very_long_sentence_warns_clarity(review: Callable[..., Review]) -> None:
    sentence = " ".join(["we checked the old pipes and the new valves"] * 6)
    item = review(f"{sentence}.").item("clarity")
    assert item.status == "warn"
    assert "54 words" in item.reason


# --- reasons, score, fixes -----------------------------------------------------------


def test_reasons_quote_the_users_words_on_one_line(review: Callable[..., Review]) -> None:
    result = review("Buongiorno a tutti!\nNuovo progetto in arrivo.")
    assert "“Buongiorno a tutti!”" in result.item("hook").reason
    assert all("\n" not in item.reason + item.suggestion for item in result.items)


def test_long_quotes_are_cut_with_an_ellipsis(review: Callable[..., Review]) -> None:
    text = "Buongiorno " + "carissimi amici e colleghi di tutta la rete " * 5
    reason = review(text).item("hook").reason
    assert "…”" in reason
    assert len(reason) < 120


def test_score_is_weighted_credit_when_no_cap_applies(review: Callable[..., Review]) -> None:
    rules = yaml.safe_load((PACKAGED / "rules.yaml").read_text(encoding="utf-8"))
    weights = {item: spec["weight"] for item, spec in rules["items"].items()}
    credit = rules["scoring"]["credit"]
    result = review(GOOD_IT.replace("Voi come organizzate i sopralluoghi?", "Buon lavoro."))
    counted = [item for item in result.items if item.status != "skip"]
    earned = sum(weights[item.id] * credit[item.status] for item in counted)
    expected = round(100 * earned / sum(weights[item.id] for item in counted))
    assert result.item("interaction").status == "fail"
    assert result.score == expected


def test_top_fixes_are_flagged_items_only(review: Callable[..., Review]) -> None:
    result = review("Nuovo progetto in arrivo!!! Stay tuned #a #b #c #d #e #f #g")
    assert len(result.top_fixes) == 3
    assert all(result.item(item_id).status in ("warn", "fail") for item_id in result.top_fixes)


# --- loading prompts/checklist -------------------------------------------------------


def test_packaged_checklist_loads() -> None:
    assert isinstance(load_checklist(), Checklist)


def test_bad_rule_kind_names_file(prompts_copy: Path) -> None:
    _edit(prompts_copy / "rules.yaml", "kind: evidence", "kind: vibes")
    with pytest.raises(ChecklistError, match=r"^rules\.yaml: items\.visibility.*vibes"):
        load_checklist(prompts_copy)


def test_unknown_key_names_file(prompts_copy: Path) -> None:
    _edit(prompts_copy / "platforms.yaml", "max_chars: 500", "max_chars: 500\n    colour: blue")
    with pytest.raises(ChecklistError, match=r"^platforms\.yaml: .*threads\.colour"):
        load_checklist(prompts_copy)


def test_placeholder_mismatch_names_file(prompts_copy: Path) -> None:
    _edit(
        prompts_copy / "en.yaml",
        'reason: "Too many emoji ({count})."',
        'reason: "Too many emoji."',
    )
    with pytest.raises(ChecklistError, match=r"^en\.yaml: items\.spam_hygiene\.cases\.emoji"):
        load_checklist(prompts_copy)


def test_placeholder_the_rule_does_not_provide_names_file(prompts_copy: Path) -> None:
    _edit(
        prompts_copy / "it.yaml",
        'reason: "Troppe emoji ({count})."',
        'reason: "Troppe emoji ({count}, {found})."',
    )
    with pytest.raises(ChecklistError, match=r"^it\.yaml: .*emoji\.reason uses \['found'\]"):
        load_checklist(prompts_copy)


def test_missing_case_text_names_file(prompts_copy: Path) -> None:
    text = (prompts_copy / "it.yaml").read_text(encoding="utf-8")
    text = re.sub(r"\n      rhetorical:\n(        .*\n){2}", "\n", text)
    (prompts_copy / "it.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ChecklistError, match=r"^it\.yaml: items\.interaction\.cases.*rhetorical"):
        load_checklist(prompts_copy)


def test_bad_pattern_names_file_and_item(prompts_copy: Path) -> None:
    _edit(prompts_copy / "rules.yaml", "- metti like\n", "- 're:metti(like'\n")
    with pytest.raises(ChecklistError, match=r"^rules\.yaml: items\.relationships_not_likes"):
        load_checklist(prompts_copy)


def test_duplicate_key_names_file(prompts_copy: Path) -> None:
    _edit(prompts_copy / "platforms.yaml", "max_chars: 500", "max_chars: 500\n    max_chars: 9")
    twice = r"^platforms\.yaml: line \d+: key 'max_chars' appears twice"
    with pytest.raises(ChecklistError, match=twice):
        load_checklist(prompts_copy)


def test_missing_file_names_file(prompts_copy: Path) -> None:
    (prompts_copy / "language.yaml").unlink()
    with pytest.raises(ChecklistError, match=r"^language\.yaml: cannot be read"):
        load_checklist(prompts_copy)


def test_missing_item_names_file(prompts_copy: Path) -> None:
    _edit(
        prompts_copy / "rules.yaml",
        "  platform_fit:\n    kind: platform",
        "  platform_fits:\n    kind: platform",
    )
    with pytest.raises(ChecklistError, match=r"^rules\.yaml: items.*platform_fit"):
        load_checklist(prompts_copy)


def test_words_like_on_and_no_stay_words_in_yaml(prompts_copy: Path) -> None:
    _edit(prompts_copy / "rules.yaml", "ignore_words: [di,", "ignore_words: [no, off, yes, di,")
    assert isinstance(load_checklist(prompts_copy), Checklist)


def test_it_and_en_texts_have_same_keys() -> None:
    def shape(language: str) -> dict[str, dict[str, tuple[str, ...]]]:
        data = yaml.safe_load((PACKAGED / f"{language}.yaml").read_text(encoding="utf-8"))
        return {
            item: {
                case: tuple(
                    sorted(re.findall(r"\{(\w+)\}", texts["reason"] + texts["suggestion"]))
                )
                for case, texts in spec["cases"].items()
            }
            for item, spec in data["items"].items()
        }

    assert shape("it") == shape("en")
    assert set(shape("it")) == set(ITEM_IDS)


def test_texts_do_not_copy_the_source_articles() -> None:
    seeds = REPO.parent / "shared" / "seeds"
    if not seeds.is_dir():
        pytest.skip("the source articles are not beside the repository")

    def shingles(text: str, size: int = 6) -> set[tuple[str, ...]]:
        words = re.findall(r"\w+", text.lower())
        return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}

    articles = set().union(*(shingles(path.read_text()) for path in seeds.glob("*.txt")))
    for language in ("it", "en"):
        data = yaml.safe_load((PACKAGED / f"{language}.yaml").read_text(encoding="utf-8"))
        for item, spec in data["items"].items():
            texts = [t for case in spec["cases"].values() for t in case.values()]
            copied = shingles(" ".join(texts)) & articles
            assert not copied, f"{language}.yaml {item} repeats the article: {copied}"


@pytest.mark.parametrize(
    ("reply_language", "one_more", "two_more"),
    [("it", " e un altro", " e altri 2"), ("en", " and one more", " and 2 more")],
)
def test_one_left_out_of_a_quoted_list_reads_in_the_singular(
    review: Callable[..., Review], reply_language: str, one_more: str, two_more: str
) -> None:
    # Three acronyms are quoted; the rest are counted after them.
    five = "Upgrade a EC2 con FRP per NTC: verifica SLV/SLD in CDS e PRO."
    four = "Upgrade a EC2 con FRP per NTC: verifica SLV in CDS e PRO."
    reason_five = review(five, reply_language=reply_language).item("clarity").reason
    reason_four = review(four, reply_language=reply_language).item("clarity").reason
    assert reason_five.endswith(two_more + "."), reason_five
    assert reason_four.endswith(one_more + "."), reason_four
