"""What an email's domain says of the employer: a collectivité, to suggest to the agent.

Tchap user ids encode the agent's email (``jean.dupont@villeurbanne.fr``); its domain often
names the employer. The suggestion is offered to the agent for confirmation, never taken as
a fact, and the email is kept private as a signal for verifying votes later.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.referential import CollectiviteRef, Referential

# Email domains that say nothing about the employer.
GENERIC_DOMAINS = frozenset(
    {"gmail.com", "orange.fr", "wanadoo.fr", "free.fr", "laposte.net", "sfr.fr", "yahoo.fr"}
    | {"hotmail.fr", "hotmail.com", "outlook.fr", "outlook.com", "gouv.fr", "interieur.gouv.fr"}
)
# More mail providers whose addresses say nothing of the employer (an administrator's
# validation refuses them too; so does any domain of the State, ``*.gouv.fr``).
WEBMAIL_DOMAINS = frozenset(
    {"live.fr", "live.com", "msn.com", "icloud.com", "me.com", "aol.com", "yahoo.com"}
    | {"gmx.fr", "gmx.com", "protonmail.com", "proton.me", "neuf.fr", "bbox.fr", "aliceadsl.fr"}
    | {"numericable.fr", "club-internet.fr", "googlemail.com", "mail.com", "tutanota.com"}
)


def says_nothing_of_the_employer(domain: str) -> bool:
    """A mail provider's domain, or the State's: validating it would vouch for strangers."""
    domain = domain.lower()
    return (
        domain in GENERIC_DOMAINS
        or domain in WEBMAIL_DOMAINS
        or domain == "gouv.fr"
        or domain.endswith(".gouv.fr")
    )


# Words that prefix a commune's name in its domain: mairie-villeurbanne.fr, ville-lyon.fr.
_DOMAIN_PREFIXES = ("mairie-", "ville-de-", "ville-", "commune-de-", "commune-", "cc-", "ca-")


def _names_from_domain(domain: str) -> list[str]:
    """What a collectivité's name may look like in its domain, best guess first."""
    labels = domain.split(".")
    stem = labels[-2] if len(labels) >= 2 else domain
    names = [stem]
    for prefix in _DOMAIN_PREFIXES:
        if stem.startswith(prefix) and len(stem) > len(prefix):
            names.insert(0, stem[len(prefix) :])
    return [name.replace("-", " ") for name in names]


def collectivite_from_email(email: str, referential: Referential) -> CollectiviteRef | None:
    """The collectivité an email's domain points to, if exactly one does.

    ``jean.dupont@villeurbanne.fr`` suggests the commune of Villeurbanne. None for generic
    mail providers and when the referential finds no single match (the twelve
    Sainte-Colombe are not guessed).
    """
    domain = email.rpartition("@")[2].lower()
    if not domain or domain in GENERIC_DOMAINS:
        return None
    for name in _names_from_domain(domain):
        found = referential.search(name, limit=2)
        if len(found) == 1:
            return found[0]
    return None


def collectivite_from_emails(
    emails: Iterable[str], referential: Referential
) -> tuple[str, CollectiviteRef] | None:
    """The first of several readings of an address that points to one collectivité.

    A Tchap id may stand for several addresses (:func:`email_candidates` in the Matrix
    transport); each is tried in order, most likely first.
    """
    for email in emails:
        found = collectivite_from_email(email, referential)
        if found is not None:
            return email, found
    return None
