"""The triage at the scale of a national consultation: drafting and planning, timed; and the
draft's pairwise precision and recall on labelled pairs of "same proposal".

    python benchmarks/proposals.py                 # 5,000 contributions (ten times 2021)
    python benchmarks/proposals.py --count 1000
    python benchmarks/proposals.py --quality       # pairwise figures on the pair sets

The generated contributions are the texts of ``nlp/data`` (training lines and catalogue
examples, each with its need type), with the usage of its need type (one in five replaced
at random, or left unknown), 2,000 collectivités and one agent link in twenty (to an
earlier contribution of the same need type). Figures on
them are speed figures: the need-type model was trained on these texts.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.consultation.drafting import DraftSettings, draft, draft_records, pair_figures
from bot.consultation.spreadsheet import read_table, write_table
from bot.consultation.triage_file import (
    ContributionState,
    TriageState,
    apply_plan,
    parse_triage,
    plan_changes,
)
from bot.forms.intake import USAGES
from config.taxonomy import default_taxonomy
from nlp.loading import load_similarity
from nlp.needs import read_catalogue
from nlp.paths import ANNOTATIONS_FILE, DATA_DIR, EXAMPLES_FILE
from storage.models import Agent, Collectivite, Contribution
from storage.records import ContributionView

SEED = 2021


def view(
    number: int,
    kind: str,
    text: str,
    usage: str | None,
    collectivite: int,
    thematique: str = "citoyennete",
    same_as: int | None = None,
    title: str | None = None,
) -> ContributionView:
    """A contribution as the store would return it, without a database."""
    prefix = "B" if kind == "besoin" else "S"
    contribution = Contribution(
        id=number,
        reference=f"{prefix}-{number:04d}",
        kind=kind,
        title=title if title is not None else text[:100],
        description=text,
        answers={"usage": usage} if usage else {},
        thematique=thematique,
        author_id=collectivite,
        collectivite_id=collectivite,
        same_as_id=same_as,
    )
    place = Collectivite(
        id=collectivite, kind="commune", code=f"{collectivite:05d}", name=f"C{collectivite}"
    )
    return ContributionView(contribution, place, Agent(id=collectivite, transport="t", user_id="u"))


def generated(count: int) -> list[ContributionView]:
    rng = random.Random(SEED)
    catalogue = {item.id: item for item in read_catalogue()}
    lines = [json.loads(line) for line in ANNOTATIONS_FILE.open(encoding="utf-8")]
    train = [json.loads(line) for line in (DATA_DIR / "train.jsonl").open(encoding="utf-8")]
    for line, row in zip(lines, train, strict=True):
        line["kind"], line["label"] = row["kind"], row["label"]
    texts = lines + [json.loads(line) for line in EXAMPLES_FILE.open(encoding="utf-8")]
    rng.shuffle(texts)
    views = []
    seen: dict[str, list[int]] = {}
    for number in range(1, count + 1):
        item = texts[(number - 1) % len(texts)]
        text = item["text"]
        if number > len(texts):  # a second round: another wording of the same situation
            words = text.split()
            rng.shuffle(words)
            text = " ".join(words)
        need = catalogue.get(item["need"])
        usage = need.usage if need else "autre"
        roll = rng.random()
        if roll < 0.1:
            usage = rng.choice(USAGES)
        elif roll < 0.2:
            usage = None
        same_as = None
        earlier = seen.get(item["need"], [])
        if earlier and item["need"] != "aucun" and rng.random() < 0.05:
            same_as = rng.choice(earlier)  # an agent joins a contribution of the same need
        seen.setdefault(item["need"], []).append(number)
        views.append(
            view(number, item["kind"], text, usage, rng.randrange(1, 2001), item["label"], same_as)
        )
    return views


def timed(label: str, action):  # type: ignore[no-untyped-def]
    start, cpu = time.perf_counter(), time.process_time()
    result = action()
    print(
        f"{label:<48} {time.perf_counter() - start:7.2f} s ({time.process_time() - cpu:.2f} s CPU)"
    )
    return result


def speed(count: int) -> None:
    taxonomy = default_taxonomy()
    similarity = timed("loading the same-need model", load_similarity)
    catalogue = read_catalogue()
    views = generated(count)
    print(f"{count} contributions")
    rows = timed(
        "draft (need types, index, search, titles)", lambda: draft(views, similarity, catalogue)
    )
    sizes = Counter(Counter(row.key for row in rows).values())
    groups = sum(sizes.values())
    print(
        f"  {groups} groups, {sizes[1]} singletons, biggest {max(sizes)}; "
        f"reasons {dict(Counter(row.reason for row in rows))}"
    )
    records = draft_records(rows, taxonomy)
    from bot.consultation.drafting import DRAFT_COLUMNS

    for fmt in ("csv", "ods"):
        data = timed(
            f"write the draft ({fmt})", lambda fmt=fmt: write_table(DRAFT_COLUMNS, records, fmt)
        )
        table = timed(f"read it back ({fmt})", lambda data=data: read_table(data))
    state = TriageState(
        contributions={
            v.contribution.reference: ContributionState(
                v.contribution.reference, v.contribution.kind
            )
            for v in views
        },
        proposals={},
    )
    plan = timed("parse and validate the reviewed file", lambda: parse_triage(table, state))
    changes = timed("plan the changes (first import)", lambda: plan_changes(plan, state))
    print(f"  {len(changes)} changes")
    after = apply_plan(plan, state)
    again = timed(
        "parse and plan again (re-import)", lambda: plan_changes(parse_triage(table, after), after)
    )
    print(f"  {len(again)} changes")


def quality() -> None:
    similarity = load_similarity()
    catalogue = read_catalogue()
    for name in ("pairs.jsonl", "pairs_test.jsonl"):
        pairs = [json.loads(line) for line in (DATA_DIR / name).open(encoding="utf-8")]
        views, labelled, number = [], [], 0
        for pair in pairs:
            refs = []
            for side in ("a", "b"):
                number += 1
                usage = pair.get(f"usage_{side}")
                views.append(
                    view(number, pair["kind"], pair[side], usage, number, pair["thematique"])
                )
                refs.append(views[-1].contribution.reference)
            labelled.append((refs[0], refs[1], bool(pair["same"])))
        for label, settings in (
            ("need types and similar text", DraftSettings()),
            ("need types only", DraftSettings(similar_text=False)),
            ("similar text only", DraftSettings(need_types=False)),
        ):
            rows = draft(views, similarity, catalogue, settings)
            group_of = {row.reference: row.key for row in rows}
            figures = pair_figures(group_of, labelled)
            sizes = Counter(Counter(group_of.values()).values())
            line_of = {ref: i for i, (a, b, _) in enumerate(labelled) for ref in (a, b)}
            members: dict[str, list[str]] = {}
            for ref, key in group_of.items():
                members.setdefault(key, []).append(ref)
            across = sum(
                line_of[x] != line_of[y]
                for refs in members.values()
                for i, x in enumerate(refs)
                for y in refs[i + 1 :]
            )
            print(
                f"{name:<18} {label:<28} P {figures['precision']:.3f} R {figures['recall']:.3f} "
                f"({figures['grouped']} labelled pairs grouped of {len(labelled)}); "
                f"groups: {sum(sizes.values())}, biggest {max(sizes)}; "
                f"{across} unlabelled pairs (texts of two lines) grouped"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--quality", action="store_true")
    args = parser.parse_args()
    if args.quality:
        quality()
    else:
        speed(args.count)


if __name__ == "__main__":
    main()
