"""The command registry: each command declared once, with everything said about it.

A :class:`CommandSpec` holds a command's words and aliases, who may run it, whether it
shows in Telegram's ``/`` menu, and its handler; its help line is the catalogue's
``commands.<key>.help``. ``aide``, the Telegram menu and the parser are generated from the
registry, so adding a command is one declaration (in a module of :mod:`bot.commands`) and
one registration line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from bot.dialogue.parsing import fold
from config.calendar import Calendar, french_date
from config.catalogue import Catalogue

if TYPE_CHECKING:
    from bot.dialogue.turn import Turn

Handler = Callable[["Turn", str], None]
"""Runs the command in a turn; receives the rest of the line (empty for most commands)."""

MAX_COMMAND_LENGTH = 64
"""A longer line is an answer (a title, a description that starts with « aide » or « menu »),
except for the two kinds of commands below, which say what they may carry."""
MAX_ARGUMENT_LENGTH = 4200
"""A prefixed command's line may be longer: a title, a description, a message to an author;
so may a plain command whose argument is only references (``soutenir`` and every proposal of
the vote on one line), which no sentence matches."""
_WORD = re.compile(r"[A-Za-z_][\w-]{0,31}")


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """One command. ``name`` is what users type (``mes contributions``).

    ``admin`` commands are refused to everyone else with one message, and, like every
    ``prefixed`` command, are recognised only after ``!`` or ``/`` (so that a title such as
    "Stats" stays a title); they read the rest of the line as their argument.
    """

    name: str
    handler: Handler
    aliases: tuple[str, ...] = ()
    admin: bool = False
    prefixed: bool = False
    menu: bool = False
    listed: bool = True
    argument: re.Pattern[str] | None = None
    """A plain command that reads what follows its word, when that matches (``soutenir
    P-012``); anything else after the word is not this command (a title "Voir les horaires")."""
    pasted: Callable[[str], bool] | None = None
    """A text that is nothing but this command's argument runs it anywhere (an invitation
    code pasted without « code »): only for an argument no answer looks like. Compare
    ``bare``, tried only where the text answered nothing else."""
    profile: bool = False
    """Acts for the user's collectivité (supports, offers, following): an administrator
    working without a profile is asked for it first."""
    opens: str | None = None
    """The phase from whose first day the command does something (``soutenir``: the vote);
    before it, ``aide`` does not list it. None: from the start."""
    closes: str | None = None
    """The phase after whose last day the command does nothing any more (``nouvelle``: the
    collecte); after it, ``aide`` does not list it. None: to the end."""
    bare: bool = False
    """Its argument typed alone runs it where nothing else understands it (a choice
    question that names no such option): « P-012 » is « voir P-012 »."""

    @property
    def key(self) -> str:
        """The identifier in the catalogue and in Telegram's menu: ``mes_contributions``."""
        return self.name.replace(" ", "_")

    @property
    def needs_prefix(self) -> bool:
        return self.admin or self.prefixed

    @property
    def words(self) -> frozenset[str]:
        return frozenset(fold(word) for word in (self.name, self.key, *self.aliases))

    def works_on(self, calendar: Calendar, day: date) -> bool:
        """Whether the command does something on ``day`` (see ``opens`` and ``closes``)."""
        if self.opens is not None and day < calendar.get(self.opens).start:
            return False
        return self.closes is None or day <= calendar.get(self.closes).end


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    command: CommandSpec | None  # None: an unknown /command
    word: str
    argument: str = ""


class CommandRegistry:
    """Every command of the bot, by the words that call it."""

    def __init__(self, specs: Iterable[CommandSpec]) -> None:
        self._specs = tuple(specs)
        self._plain: dict[str, CommandSpec] = {}
        self._prefixed: dict[str, CommandSpec] = {}
        self._with_argument: dict[str, CommandSpec] = {}
        tables = (self._plain, self._prefixed, self._with_argument)
        for spec in self._specs:
            if spec.needs_prefix:
                table = self._prefixed
            elif spec.argument is not None:
                table = self._with_argument
            else:
                table = self._plain
            # a word may name one command typed alone and one followed by its argument
            # (« voter » lists the proposals, « voter P-012 » supports one)
            clashes = (table, self._prefixed) if table is not self._prefixed else tables
            for word in spec.words:
                if any(word in other for other in clashes):
                    raise ValueError(f"the word {word!r} names two commands")
                table[word] = spec
        self._longest_word = max((len(w.split()) for w in self._with_argument), default=0)

    def __iter__(self) -> Iterator[CommandSpec]:
        return iter(self._specs)

    def get(self, name: str) -> CommandSpec:
        for spec in self._specs:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def parse(self, text: str) -> ParsedCommand | None:
        """Recognise a command typed alone, with or without a leading ``/`` or ``!``.

        Element and Tchap intercept unknown ``/`` commands, so ``!aide`` and ``aide`` work too.
        """
        stripped = text.strip()
        if not stripped:
            return None
        prefixed = stripped[0] in "/!"
        if len(stripped) > MAX_COMMAND_LENGTH:
            # a long text is an answer, unless it starts with a known command that takes
            # an argument (« !renommer P-001 » and a title of 120 characters), or is a plain
            # command followed by nothing but what it reads (« soutenir P-001 P-002 … »)
            if len(stripped) > MAX_ARGUMENT_LENGTH:
                return None
            word = stripped[1:].partition(" ")[0].split("@", 1)[0] if prefixed else ""
            found = self._prefixed.get(fold(word)) if word else None
            if found is None:
                return self._with_argument_in(stripped[1:] if prefixed else stripped)
            return ParsedCommand(found, word, stripped[1:].partition(" ")[2].strip())
        body = stripped[1:] if prefixed else stripped
        if not any(ch.isalnum() for ch in body):  # « . », « ?? »: punctuation is no command
            return None
        word, _, argument = body.partition(" ")
        if prefixed and "@" in word:  # Telegram: /aide@RecueilBot
            word = word.split("@", 1)[0]
            body = f"{word} {argument}".strip()
        plain = self._plain.get(fold(body))
        if plain is not None:
            return ParsedCommand(plain, word)
        with_argument = self._with_argument_in(body)
        if with_argument is not None:
            return with_argument
        if not prefixed:
            pasted = next((s for s in self._specs if s.pasted is not None and s.pasted(body)), None)
            return ParsedCommand(pasted, pasted.name, body) if pasted is not None else None
        found = self._prefixed.get(fold(word))
        if found is not None:
            return ParsedCommand(found, word, argument.strip())
        if _WORD.fullmatch(word):
            return ParsedCommand(None, stripped[0] + word)
        return None

    def _with_argument_in(self, body: str) -> ParsedCommand | None:
        """A plain command of one or more words (``ne plus suivre``) and its argument."""
        tokens = body.split()
        for size in range(min(len(tokens) - 1, self._longest_word), 0, -1):
            spec = self._with_argument.get(fold(" ".join(tokens[:size])))
            argument = " ".join(tokens[size:])
            if spec is not None and spec.argument is not None and spec.argument.fullmatch(argument):
                return ParsedCommand(spec, " ".join(tokens[:size]), argument)
        return None

    def alone(self, text: str) -> ParsedCommand | None:
        """A command whose argument was typed alone (« P-012 »: ``voir P-012``); the step
        asks only where the text answers nothing else."""
        stripped = text.strip()
        for spec in self._specs:
            if spec.bare and spec.argument is not None and spec.argument.fullmatch(stripped):
                return ParsedCommand(spec, "", stripped)
        return None

    def prefixed(self, word: str) -> CommandSpec | None:
        """The command that ``!word`` runs, if ``word`` names one that needs the prefix."""
        return self._prefixed.get(fold(word))

    def without_argument(self, text: str) -> CommandSpec | None:
        """A plain command that reads a reference, typed without one (« suivre »)."""
        word = fold(text.strip())
        if word in self._plain:  # « voter » alone lists the proposals
            return None
        spec = self._with_argument.get(word)
        return spec if spec is not None and spec.argument is not None else None

    def visible_to(self, is_admin: bool) -> list[CommandSpec]:
        """The commands ``aide`` lists for this user: the ones they may run."""
        return [s for s in self._specs if s.listed and (is_admin or not s.admin)]

    def help_text(self, catalogue: Catalogue, is_admin: bool, calendar: Calendar, day: date) -> str:
        """The list of commands the user may run on ``day``, each with its help line; the
        ones that work only in a later phase are left for then, and one line says when."""
        visible = self.visible_to(is_admin)
        working = [s for s in visible if not s.admin and s.works_on(calendar, day)]
        sections = [
            "\n".join(
                [
                    catalogue.t("help.general"),
                    *(_help_line(catalogue, s) for s in working),
                    catalogue.t("help.choices"),
                ]
            )
        ]
        later = [
            calendar.get(s.opens)
            for s in visible
            if not s.admin and s.opens is not None and day < calendar.get(s.opens).start
        ]
        if later:
            phase = min(later, key=lambda p: p.start)
            sections.append(
                catalogue.t("help.later", label=phase.label, start=french_date(phase.start))
            )
        admin = [_help_line(catalogue, s) for s in visible if s.admin]
        if admin:
            sections.append("\n".join([catalogue.t("help.admin"), *admin]))
        return "\n\n".join(sections)

    def menu(self, catalogue: Catalogue) -> list[tuple[str, str]]:
        """Telegram's ``/`` menu: (command, description) of the commands that declare it."""
        return [(s.key, catalogue.t(f"commands.{s.key}.menu")) for s in self._specs if s.menu]


def _help_line(catalogue: Catalogue, spec: CommandSpec) -> str:
    usage_key = f"commands.{spec.key}.usage"
    usage = catalogue.t(usage_key) if catalogue.has(usage_key) else spec.name
    return catalogue.t("help.line", usage=usage, help=catalogue.t(f"commands.{spec.key}.help"))
