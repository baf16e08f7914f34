"""Reading beta.gouv.fr's service pages as the independent set (nlp/independent.py).

The pages themselves are not in the repository (CC BY-NC-SA 4.0): these tests write pages
of the same shape and check what the measure reads from them.
"""

from pathlib import Path

from config.taxonomy import default_taxonomy
from nlp.independent import description, gold_of, load_mapping, read_pages

PAGE = """---
title: Allo Territoire
mission: Permettre aux usagers de trouver le **bon interlocuteur** au sein du département
incubator: anct
usertypes:
  - collectivite-territoriale
thematiques:
  - administratif
  - Collectivités
---

Un chapeau de présentation.

## Problème visé :

“Un appel sur trois non traité”. L’errance administrative touche plus d’un usager sur deux,
voir [l’étude](https://example.org/etude).

- la complexité à identifier le bon interlocuteur ;

## Hypothèses de solution

Un agent conversationnel.
"""


def write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.md").write_text(text, encoding="utf-8")


def test_a_page_gives_its_mission_its_problem_and_its_audience(tmp_path: Path) -> None:
    write(tmp_path / "content" / "_startups", "allo", PAGE)

    (page,) = read_pages(tmp_path)

    assert page.title == "Allo Territoire"
    assert page.mission == (
        "Permettre aux usagers de trouver le bon interlocuteur au sein du département"
    )
    # The paragraph under the problem's heading, not the page's first one; links as text.
    assert page.problem.startswith("“Un appel sur trois non traité”.")
    assert "voir l’étude" in page.problem and "https" not in page.problem
    assert "agent conversationnel" not in page.problem
    assert page.for_collectivites
    assert description(page).startswith("Permettre aux usagers") and ". “Un appel" in (
        description(page)
    )


def test_pages_without_a_mission_or_front_matter_are_left_out(tmp_path: Path) -> None:
    folder = tmp_path / "_startups"
    write(folder, "allo", PAGE)
    write(folder, "sans-mission", "---\ntitle: Rien\n---\nDu texte.\n")
    write(folder, "brut", "Pas d’en-tête du tout.\n")
    write(folder, "casse", "---\ntitle: [\n---\nTexte.\n")

    assert [page.name for page in read_pages(folder)] == ["allo"]


def test_the_gold_is_the_mapped_tags_compared_without_case(tmp_path: Path) -> None:
    write(tmp_path, "allo", PAGE)
    (page,) = read_pages(tmp_path)

    # « administratif » is mapped; « Collectivités » has no counterpart and adds nothing.
    assert gold_of(page, load_mapping()) == {"demarches_aides"}


def test_every_mapped_tag_names_a_thematique_of_the_taxonomy() -> None:
    ids = set(default_taxonomy().ids)
    mapping = load_mapping()

    assert len(mapping) >= 30
    assert {label for labels in mapping.values() for label in labels} <= ids
