"""The message catalogue: every text a user reads, from ``config/messages.toml``.

Templates are written with ordinary spaces; French typography is applied once at load,
before user values are substituted, so what agents typed is never altered.
"""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path
from typing import Any

from config.toml_file import read_toml
from config.typography import french

DEFAULT_MESSAGES = Path(__file__).with_name("messages.toml")


def plural(value: Any, forms: str) -> str:
    """``plural(3, "# ligne|# lignes")`` → ``"3 lignes"``: the singular side for 0 and 1 (the
    French rule), the plural side otherwise; ``#`` stands for the value. Three forms
    (``"aucune ligne|# ligne|# lignes"``) give zero its own words."""
    forms_list = forms.split("|")
    whole = isinstance(value, int) and not isinstance(value, bool)
    if len(forms_list) == 3 and whole and value == 0:
        chosen = forms_list[0]
    else:
        singular, other = forms_list[-2], forms_list[-1]
        chosen = singular if whole and abs(value) < 2 else other
    return chosen.replace("#", str(value))


class _Formatter(string.Formatter):
    """``str.format`` plus French plurals: ``{count:# proposition|# propositions}``.

    A format spec holding ``|`` picks its singular side for 0 and 1 (the French rule) and
    its plural side for other numbers (and for a value that is not a whole number); ``#``
    stands for the value.
    """

    def format_field(self, value: Any, format_spec: str) -> str:
        if "|" not in format_spec:
            return super().format_field(value, format_spec)
        return plural(value, format_spec)


_FORMATTER = _Formatter()


class Catalogue:
    """Keyed French texts; ``t("intake.title.prompt", n=3)`` formats one."""

    def __init__(self, templates: dict[str, str]) -> None:
        self._templates = {key: french(value) for key, value in templates.items()}
        # A dozen texts a turn, forty for a listing: a text without a field is formatted
        # once; one without a plural is formatted by ``str.format`` (in C, the same rules),
        # the others by the plural-aware formatter, written in Python, many times slower.
        fields = {
            key: [(name, spec) for _, name, spec, _ in _FORMATTER.parse(template) if name]
            for key, template in self._templates.items()
        }
        self._fixed = {
            key: _FORMATTER.vformat(self._templates[key], (), {})
            for key, found in fields.items()
            if not found
        }
        self._plural = {
            key for key, found in fields.items() if any("|" in (s or "") for _, s in found)
        }

    @classmethod
    def load(cls, path: Path | None = None) -> Catalogue:
        variable = "RECUEIL_MESSAGES_FILE" if path else None
        return cls(dict(_flatten(read_toml(path or DEFAULT_MESSAGES, variable))))

    def t(self, key: str, **values: Any) -> str:
        fixed = self._fixed.get(key)
        if fixed is not None:
            return fixed
        try:
            template = self._templates[key]
        except KeyError:
            raise KeyError(f"message {key!r} is missing from the catalogue") from None
        if key in self._plural:
            return _FORMATTER.vformat(template, (), values)
        return template.format(**values)

    def has(self, key: str) -> bool:
        return key in self._templates

    def all_keys(self) -> list[str]:
        return sorted(self._templates)

    def placeholders(self, key: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(self._templates[key]) if name}


def _flatten(table: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    for key, value in table.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            items.extend(_flatten(value, full + "."))
        elif isinstance(value, str):
            items.append((full, value))
        else:
            raise TypeError(f"message {full!r} must be a string")
    return items


@cache
def default_catalogue() -> Catalogue:
    return Catalogue.load()
