"""The agent's rights over their data: see it all, have it erased, read the notice."""

from __future__ import annotations

import json

from bot.consultation.personal_data import in_french
from bot.core.values import OutFile
from bot.dialogue.commands import CommandSpec
from bot.dialogue.turn import Turn
from bot.scenes.erase import ERASE
from storage import privacy

TEXT_CHUNK = 3500
"""Where files cannot be sent, the export goes as messages of at most this many characters."""


def mes_donnees(turn: Turn, argument: str) -> None:
    """Everything stored about the agent, under French names: a JSON file, or the same JSON
    as text where files cannot be sent."""
    ctx = turn.ctx
    data = privacy.agent_data(ctx.tx, ctx.key.transport, ctx.key.user, now=ctx.now)
    shown = in_french(ctx.catalogue, data)
    content = json.dumps(shown, ensure_ascii=False, indent=2, sort_keys=False)
    if ctx.can_send_files:
        name = f"mes-donnees-{ctx.local_now.strftime('%Y%m%d-%H%M')}.json"
        caption = ctx.t("privacy.export_caption")
        turn.out.append(OutFile(name, content.encode(), "application/json", caption))
        return
    turn.say(ctx.t("privacy.export_as_text"))
    for chunk in chunks(content, TEXT_CHUNK):
        turn.say(chunk, apart=True)


def chunks(text: str, size: int) -> list[str]:
    """``text`` cut into parts of at most ``size`` characters, at line ends where possible."""
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > size:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:size])
            line = line[size:]
        if len(current) + len(line) > size:
            parts.append(current)
            current = ""
        current += line
    if current:
        parts.append(current)
    return parts


def supprimer_mes_donnees(turn: Turn, argument: str) -> None:
    if turn.top.scene != ERASE:
        turn.push(ERASE)


def confidentialite(turn: Turn, argument: str) -> None:
    ctx = turn.ctx
    settings = ctx.services.settings
    contact = f" ({settings.privacy_contact})" if settings.privacy_contact else ""
    turn.say(ctx.t("privacy.notice", months=settings.retention_months, contact=contact))


COMMANDS = (
    CommandSpec("mes donnees", mes_donnees, aliases=("donnees", "mes_donnees"), menu=True),
    CommandSpec(
        "supprimer mes donnees",
        supprimer_mes_donnees,
        aliases=("effacer mes donnees", "supprimer_mes_donnees"),
    ),
    CommandSpec("confidentialite", confidentialite, aliases=("vie privee", "rgpd"), menu=True),
)
