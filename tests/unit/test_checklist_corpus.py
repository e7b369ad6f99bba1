"""The checklist judged on labelled drafts, as a careful coach would judge them.

The corpus is in tests/unit/corpus/ (see its README): `tuning/` is what the rules were
tuned on; `heldout/` was written and labelled blind, before the rules ran on it, and no
rule is tuned on it. For each part: how many good points the engine recognises (labelled
pass, got pass), how many faults it flags (labelled warn or fail, got warn or fail), the
Spearman correlation between the coach's holistic score and the engine's, and per-item
precision and recall per language. The table prints in a plain `pytest -q` run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from scipy.stats import spearmanr

from bot.coach import ITEM_IDS, PLATFORMS, Review, load_checklist

CORPUS = Path(__file__).parent / "corpus"
PARTS = ("tuning", "heldout")
STATUSES = {"pass", "warn", "fail", "skip"}
FLAGGED = {"warn", "fail"}
MIN_GOOD = 0.90  # good points recognised, on each part
MIN_FAULTS = 0.90  # faults flagged, on each part
MIN_SPEARMAN = 0.85  # holistic score against the engine's, on each part
WEAK_MAX, STRONG_MIN = 35, 80  # the coach's bands, and where the engine should put them
MIN_IN_BAND = 0.85  # share of the coach's weak (strong) drafts the engine scores so
MIN_DRAFTS, MIN_TRICKY = 200, 50


@dataclass(frozen=True)
class Outcome:
    """One labelled (draft, item) pair and what the engine said."""

    draft_id: str
    part: str
    language: str
    item: str
    expected: str
    got: str
    reason: str


def _drafts() -> list[dict[str, Any]]:
    drafts = []
    for part in PARTS:
        for path in sorted((CORPUS / part).glob("*.yaml")):
            for draft in yaml.safe_load(path.read_text(encoding="utf-8"))["drafts"]:
                drafts.append({**draft, "part": part, "file": f"{part}/{path.name}"})
    return drafts


DRAFTS = _drafts()


@pytest.fixture(scope="module")
def reviews() -> dict[str, Review]:
    """Every corpus draft reviewed once."""
    checklist = load_checklist()
    return {
        draft["id"]: checklist.review(
            draft["text"],
            platform=draft["platform"],
            reply_language="en",
            topics=draft.get("topics", ()),
        )
        for draft in DRAFTS
    }


@pytest.fixture(scope="module")
def outcomes(reviews: dict[str, Review]) -> list[Outcome]:
    """Every labelled pair with the engine's status."""
    return [
        Outcome(
            draft["id"],
            draft["part"],
            draft["language"],
            item,
            expected,
            reviews[draft["id"]].item(item).status,
            reviews[draft["id"]].item(item).reason,
        )
        for draft in DRAFTS
        for item, expected in draft["expect"].items()
    ]


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


def good_points(rows: list[Outcome]) -> float:
    """Of the pairs labelled pass, the share the engine passes."""
    good = [row for row in rows if row.expected == "pass"]
    return _share(sum(row.got == "pass" for row in good), len(good))


def faults_flagged(rows: list[Outcome]) -> float:
    """Of the pairs labelled warn or fail, the share the engine flags."""
    faults = [row for row in rows if row.expected in FLAGGED]
    return _share(sum(row.got in FLAGGED for row in faults), len(faults))


def spearman(part: str, reviews: dict[str, Review]) -> float:
    """Rank correlation of the coach's holistic scores with the engine's, on one part."""
    drafts = [draft for draft in DRAFTS if draft["part"] == part]
    holistic = [draft["score"] for draft in drafts]
    engine = [reviews[draft["id"]].score for draft in drafts]
    return float(spearmanr(holistic, engine).statistic)


def in_band(part: str, reviews: dict[str, Review]) -> tuple[float, float]:
    """Of the coach's weak (strong) drafts, the share the engine scores weak (strong)."""
    drafts = [draft for draft in DRAFTS if draft["part"] == part]
    weak = [
        reviews[draft["id"]].score <= WEAK_MAX for draft in drafts if draft["score"] <= WEAK_MAX
    ]
    strong = [
        reviews[draft["id"]].score >= STRONG_MIN
        for draft in drafts
        if draft["score"] >= STRONG_MIN
    ]
    return _share(sum(weak), len(weak)), _share(sum(strong), len(strong))


def _ratio(part: int, whole: int) -> str:
    return f"{part / whole:.2f}" if whole else "  - "


def _precision_recall(rows: list[Outcome]) -> tuple[str, str]:
    true_pos = sum(row.expected in FLAGGED and row.got in FLAGGED for row in rows)
    false_pos = sum(row.expected == "pass" and row.got in FLAGGED for row in rows)
    false_neg = sum(row.expected in FLAGGED and row.got == "pass" for row in rows)
    return _ratio(true_pos, true_pos + false_pos), _ratio(true_pos, true_pos + false_neg)


def _table(outcomes: list[Outcome], reviews: dict[str, Review]) -> str:
    lines = ["", f"checklist corpus: {len(DRAFTS)} drafts, {len(outcomes)} labelled pairs"]
    for part in PARTS:
        rows = [row for row in outcomes if row.part == part]
        drafts = [draft for draft in DRAFTS if draft["part"] == part]
        weak, strong = in_band(part, reviews)
        lines.append(
            f"  {part:<8} {len(drafts):>3} drafts {len(rows):>5} pairs: "
            f"good points {good_points(rows):.1%}, faults {faults_flagged(rows):.1%}, "
            f"exact {_share(sum(r.expected == r.got for r in rows), len(rows)):.1%}, "
            f"Spearman {spearman(part, reviews):.3f}, "
            f"weak<={WEAK_MAX} {weak:.0%}, strong>={STRONG_MIN} {strong:.0%}"
        )
    lines.append("per item (flagged = warn or fail): precision / recall of the flags")
    header = f"  {'item':<25}" + "".join(
        f"{f'{part} {language}':>16}" for part in PARTS for language in ("it", "en")
    )
    lines.append(header)
    for item in ITEM_IDS:
        cells = []
        for part in PARTS:
            for language in ("it", "en"):
                rows = [
                    row
                    for row in outcomes
                    if row.item == item and row.part == part and row.language == language
                ]
                precision, recall = _precision_recall(rows)
                cells.append(f"{precision} / {recall}".rjust(16))
        lines.append(f"  {item:<25}" + "".join(cells))
    misses = [row for row in outcomes if row.part == "tuning" and row.expected != row.got]
    if misses:
        lines.append(f"tuning disagreements ({len(misses)}):")
        lines.extend(
            f"  {miss.item} {miss.draft_id}: expected {miss.expected}, got {miss.got} "
            f"({miss.reason})"
            for miss in misses
        )
    return "\n".join(lines)


def test_corpus_is_large_and_varied() -> None:
    assert len(DRAFTS) >= MIN_DRAFTS
    assert sum(1 for draft in DRAFTS if draft.get("tricky")) >= MIN_TRICKY
    for part in PARTS:
        drafts = [draft for draft in DRAFTS if draft["part"] == part]
        assert Counter(draft["language"] for draft in drafts).keys() == {"it", "en"}
        assert {draft["platform"] for draft in drafts} == set(PLATFORMS)


def test_corpus_ids_are_unique_and_labels_are_known() -> None:
    ids = [draft["id"] for draft in DRAFTS]
    assert len(ids) == len(set(ids))
    for draft in DRAFTS:
        assert set(draft["expect"]) <= set(ITEM_IDS), draft["id"]
        assert set(draft["expect"].values()) <= STATUSES, draft["id"]
        assert 0 <= draft["score"] <= 100, draft["id"]


def test_corpus_drafts_are_detected_in_their_language(reviews: dict[str, Review]) -> None:
    wrong = [draft["id"] for draft in DRAFTS if reviews[draft["id"]].language != draft["language"]]
    assert wrong == []


def test_corpus_figures_print(
    outcomes: list[Outcome], reviews: dict[str, Review], capsys: pytest.CaptureFixture[str]
) -> None:
    table = _table(outcomes, reviews)
    with capsys.disabled():
        print(table)  # shown in a normal `pytest -q` run
    assert "heldout" in table


@pytest.mark.parametrize("part", PARTS)
def test_good_points_are_recognised(part: str, outcomes: list[Outcome]) -> None:
    rows = [row for row in outcomes if row.part == part]
    assert rows
    assert good_points(rows) >= MIN_GOOD


@pytest.mark.parametrize("part", PARTS)
def test_faults_are_flagged(part: str, outcomes: list[Outcome]) -> None:
    rows = [row for row in outcomes if row.part == part]
    assert rows
    assert faults_flagged(rows) >= MIN_FAULTS


@pytest.mark.parametrize("part", PARTS)
def test_scores_rank_drafts_as_the_coach_does(part: str, reviews: dict[str, Review]) -> None:
    assert spearman(part, reviews) >= MIN_SPEARMAN


@pytest.mark.parametrize("part", PARTS)
def test_weak_drafts_score_low_and_strong_ones_high(part: str, reviews: dict[str, Review]) -> None:
    weak, strong = in_band(part, reviews)
    assert weak >= MIN_IN_BAND
    assert strong >= MIN_IN_BAND
