"""The checklist judged on labelled drafts: agreement, and precision/recall per item.

The corpus is in tests/unit/corpus/ (see its README). The `holdout*.yaml` files were
labelled after the rules existed and run only once the labels were final, so their
agreement is reported on its own as well. The table prints in a plain `pytest -q` run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.coach import ITEM_IDS, PLATFORMS, Review, load_checklist

CORPUS = Path(__file__).parent / "corpus"
STATUSES = {"pass", "warn", "fail", "skip"}
FLAGGED = {"warn", "fail"}
MIN_AGREEMENT = 0.90


@dataclass(frozen=True)
class Outcome:
    """One labelled (draft, item) pair and what the engine said."""

    draft_id: str
    file: str
    held_out: bool
    item: str
    expected: str
    got: str
    reason: str

    @property
    def agrees(self) -> bool:
        """Exactly the labelled status."""
        return self.expected == self.got


def _drafts() -> list[dict[str, Any]]:
    drafts = []
    for path in sorted(CORPUS.glob("*.yaml")):
        for draft in yaml.safe_load(path.read_text(encoding="utf-8"))["drafts"]:
            drafts.append(
                {**draft, "file": path.name, "held_out": path.stem.startswith("holdout")}
            )
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
            draft["file"],
            draft["held_out"],
            item,
            expected,
            reviews[draft["id"]].item(item).status,
            reviews[draft["id"]].item(item).reason,
        )
        for draft in DRAFTS
        for item, expected in draft["expect"].items()
    ]


def _ratio(part: int, whole: int) -> str:
    return f"{part / whole:.2f}" if whole else "  - "


def _table(outcomes: list[Outcome]) -> str:
    held_out = [outcome for outcome in outcomes if outcome.held_out]
    agreed = sum(outcome.agrees for outcome in outcomes)
    lines = [
        "",
        f"checklist corpus: {len(DRAFTS)} drafts, {len(outcomes)} labelled pairs, "
        f"agreement {agreed / len(outcomes):.1%} "
        f"(held-out: {sum(o.agrees for o in held_out)}/{len(held_out)})",
    ]
    for name in sorted({outcome.file for outcome in outcomes}):
        rows = [outcome for outcome in outcomes if outcome.file == name]
        lines.append(f"  {name:<16}{sum(row.agrees for row in rows):>4}/{len(rows)} agree")
    lines.append(
        f"{'item':<25}{'pairs':>6}{'agree':>8}{'precision':>11}{'recall':>8}"
        "   (flagged = warn or fail)"
    )
    for item in ITEM_IDS:
        rows = [outcome for outcome in outcomes if outcome.item == item]
        judged = [row for row in rows if row.expected != "skip"]
        true_pos = sum(row.expected in FLAGGED and row.got in FLAGGED for row in judged)
        false_pos = sum(row.expected == "pass" and row.got in FLAGGED for row in judged)
        false_neg = sum(row.expected in FLAGGED and row.got == "pass" for row in judged)
        agree = sum(row.agrees for row in rows) / len(rows) if rows else 0.0
        precision = _ratio(true_pos, true_pos + false_pos)
        recall = _ratio(true_pos, true_pos + false_neg)
        lines.append(f"{item:<25}{len(rows):>6}{agree:>8.1%}{precision:>11}{recall:>8}")
    misses = [outcome for outcome in outcomes if not outcome.agrees]
    if misses:
        lines.append("disagreements:")
        lines.extend(
            f"  {miss.item} {miss.draft_id}: expected {miss.expected}, got {miss.got} "
            f"({miss.reason})"
            for miss in misses
        )
    return "\n".join(lines)


def test_corpus_has_enough_drafts_in_both_languages_on_every_platform() -> None:
    assert len(DRAFTS) >= 70
    assert Counter(draft["language"] for draft in DRAFTS).keys() == {"it", "en"}
    assert {draft["platform"] for draft in DRAFTS} == set(PLATFORMS)


def test_corpus_ids_are_unique_and_labels_are_known() -> None:
    ids = [draft["id"] for draft in DRAFTS]
    assert len(ids) == len(set(ids))
    for draft in DRAFTS:
        assert set(draft["expect"]) <= set(ITEM_IDS), draft["id"]
        assert set(draft["expect"].values()) <= STATUSES, draft["id"]


def test_corpus_drafts_are_detected_in_their_language(reviews: dict[str, Review]) -> None:
    wrong = [draft["id"] for draft in DRAFTS if reviews[draft["id"]].language != draft["language"]]
    assert wrong == []


def test_corpus_agreement_is_at_least_90_percent(
    outcomes: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    table = _table(outcomes)
    print(table)  # kept with the test's output when it fails
    with capsys.disabled():
        print(table)  # and shown in a normal `pytest -q` run
    agreement = sum(outcome.agrees for outcome in outcomes) / len(outcomes)
    assert agreement >= MIN_AGREEMENT, table


def test_held_out_agreement_is_at_least_90_percent(outcomes: list[Outcome]) -> None:
    held_out = [outcome for outcome in outcomes if outcome.held_out]
    assert held_out
    assert sum(outcome.agrees for outcome in held_out) / len(held_out) >= MIN_AGREEMENT
