"""Layers point one way: read from the source files' imports (``ast``), nothing is imported.

- ``storage``, ``nlp`` and ``config`` never import ``bot``;
- ``nlp``'s inference (what the bot loads to classify and compare) never imports training,
  the studies, the dev-pair builder, the evaluation metrics or the command line;
- training never imports the studies or the tools built on top of it.

Every import counts, wherever it is written (inside a function, under ``TYPE_CHECKING``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

TOOLING = (
    "nlp.training",
    "nlp.experiments",
    "nlp.dev_pairs",
    "nlp.evaluation",
    "nlp.feedback",
    "nlp.encoder_study",
    "nlp.independent",
    "nlp.cli",
)
"""``nlp`` modules (and packages) that are not inference; every other ``nlp`` module is."""
STUDIES = ("nlp.experiments", "nlp.encoder_study", "nlp.dev_pairs", "nlp.cli")
"""What sits on top of training."""
SCRIPTS = ("nlp.data",)
"""Data checks run by hand, outside both."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module ``source`` imports, absolute; ``from a import b`` gives ``a`` and ``a.b``."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                parent = ".".join([*base, *([node.module] if node.module else [])])
            else:
                parent = node.module or ""
            found.add(parent)
            found.update(f"{parent}.{alias.name}" for alias in node.names)
    return found


def imports_of(top: str) -> dict[str, set[str]]:
    """Module name → imported modules, for every ``.py`` file under ``top``."""
    graph = {}
    for path in sorted((ROOT / top).rglob("*.py")):
        name = module_name(path)
        graph[name] = imported_modules(
            path.read_text(encoding="utf-8"), name, path.name == "__init__.py"
        )
    return graph


def within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def offending(graph: dict[str, set[str]], forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    return {
        module: sorted(name for name in imported if within(name, forbidden))
        for module, imported in graph.items()
        if any(within(name, forbidden) for name in imported)
    }


def inference_modules() -> dict[str, set[str]]:
    return {
        module: imported
        for module, imported in imports_of("nlp").items()
        if not within(module, TOOLING + SCRIPTS)
    }


def test_the_import_reader_sees_every_form_of_import() -> None:
    source = """
import bot
import bot.values as values
from bot.values import ConversationKey
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from nlp.training import textcat
def later():
    from .training.needs import train_need_model
    from . import experiments
"""
    found = imported_modules(source, "nlp.similarity")
    assert {"bot", "bot.values", "nlp.training.textcat", "nlp.experiments"} <= found
    assert "nlp.training.needs.train_need_model" in found
    assert offending({"nlp.similarity": found}, TOOLING) == {
        "nlp.similarity": [
            "nlp.experiments",
            "nlp.training",
            "nlp.training.needs",
            "nlp.training.needs.train_need_model",
            "nlp.training.textcat",
        ]
    }
    assert imported_modules("from .. import values", "bot.core", is_package=True) == {
        "bot",
        "bot.values",
    }


def test_the_inference_modules_are_the_ones_the_bot_loads() -> None:
    inference = inference_modules()
    expected = {
        "nlp.classifier",
        "nlp.spacy_classifier",
        "nlp.features",
        "nlp.vocabulary",
        "nlp.needs",
        "nlp.similarity",
        "nlp.index",
        "nlp.index_entry",
        "nlp.loading",
    }
    assert expected <= set(inference)
    # The reader follows real imports (a test that saw nothing could not fail).
    assert "nlp.needs" in inference["nlp.similarity"]


def test_inference_never_imports_training_studies_or_evaluation() -> None:
    assert offending(inference_modules(), TOOLING) == {}


def test_training_never_imports_the_studies_built_on_it() -> None:
    training = {
        module: imported
        for module, imported in imports_of("nlp").items()
        if within(module, ("nlp.training",))
    }
    assert training
    assert offending(training, STUDIES) == {}


@pytest.mark.parametrize(
    "top",
    [
        "storage",
        "nlp",
        "config",
    ],
)
def test_storage_nlp_config_never_import_bot(top: str) -> None:
    graph = imports_of(top)
    assert graph
    assert offending(graph, ("bot",)) == {}


def test_storage_never_imports_bot() -> None:
    def imports_bot(source: str) -> list[str]:
        found = []
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            found += [f"line {node.lineno}: {n}" for n in names if n.split(".")[0] == "bot"]
        return found

    # the check itself must see both spellings, even inside a function
    assert imports_bot("import bot.values\ndef f():\n    from bot import engine\n") == [
        "line 1: bot.values",
        "line 3: bot",
    ]
    files = sorted((ROOT / "storage").rglob("*.py"))
    assert len(files) > 10
    offenders = {
        str(path.relative_to(ROOT)): found
        for path in files
        if (found := imports_bot(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}
