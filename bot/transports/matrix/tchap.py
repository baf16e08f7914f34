"""Tchap user ids encode the agent's professional email address.

Tchap derives the localpart from the email: lower-cased, ``@`` replaced by ``-``, and a
number appended when the result is already taken. So
``@jean.dupont-ville.fr:agent.collectivites.tchap.gouv.fr`` is ``jean.dupont@ville.fr``,
and ``@jean.dupont-ville.fr1:…`` the same address for a second account. The dash that
stood for ``@`` cannot be told from dashes inside the local part (``jean-pierre.martin``)
or the domain (``ville-de-paris.fr``), so :func:`email_candidates` lists every reading
whose domain is well formed, most likely first, and callers that can check a domain (the
collectivités referential) try them in order.
"""

from __future__ import annotations

import re

from storage.referential import CollectiviteRef, Referential

TCHAP_SERVER = re.compile(r"(^|\.)tchap\.gouv\.fr$")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_TLD = re.compile(r"^[a-z]{2,24}$")
_LOCAL = re.compile(r"^[a-z0-9._+'-]+$")


def split_user_id(user_id: str) -> tuple[str, str] | None:
    """``(localpart, server)`` of a Matrix user id, or None if it is not one."""
    if not user_id.startswith("@") or ":" not in user_id:
        return None
    localpart, _, server = user_id[1:].partition(":")
    return (localpart, server) if localpart and server else None


def is_tchap_user(user_id: str) -> bool:
    parts = split_user_id(user_id)
    return parts is not None and bool(TCHAP_SERVER.search(parts[1].lower()))


def _valid_domain(domain: str) -> bool:
    labels = domain.split(".")
    return (
        len(labels) >= 2
        and all(_LABEL.match(label) for label in labels)
        and bool(_TLD.match(labels[-1]))
    )


def email_candidates(user_id: str) -> tuple[str, ...]:
    """Every email address a Tchap user id may stand for, most likely first.

    The trailing number Tchap adds to tell homonyms apart is dropped (a top-level domain
    never ends with a digit). Readings are ranked by where the ``@`` dash falls: first the
    dash right after the first dotted word of the local part (``prenom.nom``), then the
    others from left to right. Not a Tchap id: empty.
    """
    parts = split_user_id(user_id)
    if parts is None or not TCHAP_SERVER.search(parts[1].lower()):
        return ()
    localpart = parts[0].lower().rstrip("0123456789")
    readings: list[str] = []
    for match in re.finditer("-", localpart):
        local, domain = localpart[: match.start()], localpart[match.end() :]
        if local and _LOCAL.match(local) and _valid_domain(domain):
            readings.append(f"{local}@{domain}")

    def likelihood(email: str) -> tuple[int, int]:
        local = email.split("@")[0]
        # "jean-pierre.martin" (a dot, then no dash after it) reads as prenom.nom.
        dotted = "." in local and "-" not in local.rsplit(".", 1)[1]
        return (0 if dotted else 1, len(local))

    return tuple(sorted(readings, key=likelihood))


def email_from_user_id(user_id: str) -> str | None:
    """The most likely email address behind a Tchap user id (None for other servers)."""
    candidates = email_candidates(user_id)
    return candidates[0] if candidates else None


def suggest_collectivite(user_id: str, referential: Referential) -> CollectiviteRef | None:
    """The collectivité a Tchap agent's email domain points to, if exactly one does.

    ``@jean.dupont-villeurbanne.fr:agent.collectivites.tchap.gouv.fr`` suggests the commune
    of Villeurbanne. Returns None when the user id is not a Tchap one, the domain is a
    generic mail provider, or the referential finds no single exact match (homonyms such
    as the twelve Sainte-Colombe are not guessed). A suggestion, to be confirmed by the
    agent: never a verified fact.
    """
    found = referential.from_emails(email_candidates(user_id))
    return found[1] if found is not None else None
