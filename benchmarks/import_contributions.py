"""``recueil import contributions`` on a large file: rows per second and peak memory.

Writes a CSV with the columns of ``recueil export --what contributions`` (about 50 MB by
default) as a large export would have it: nine besoins in ten, one in ten a service; one
row in four joined to an earlier contribution of the same kind (``meme_besoin_que``); one in
five without a thématique (guessed by the classifier; ``--unclassified``); one in ten naming
its collectivité by name and département rather than by code; every row with its reference
and date. Then runs the command in a child process on an empty base (migrated beforehand,
not timed), and prints the rows imported per second of the whole command (interpreter,
imports, models loaded, file read, checked and stored), per second of the child's CPU time
(the figure that other work on the machine disturbs least), and the child's peak resident
memory.

    python benchmarks/import_contributions.py                          # SQLite, ~50 MB
    python benchmarks/import_contributions.py --megabytes 5 --profile  # cProfile, top 60
    python benchmarks/import_contributions.py --unclassified 0         # every thématique given
    python benchmarks/import_contributions.py --database-url postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bot.consultation.export import CONTRIBUTION_COLUMNS
from bot.consultation.spreadsheet import write_csv
from config.taxonomy import default_taxonomy
from storage.referential import default_referential

ROOT = Path(__file__).resolve().parents[1]
NEEDS = (
    "Réserver les salles communales en ligne",
    "Paiement de la cantine scolaire par internet",
    "Signaler un dépôt sauvage sur la voirie",
    "Inscription au centre de loisirs",
    "Gérer les concessions du cimetière",
    "Prêt de matériel aux associations",
    "Informer les habitants des coupures d’eau",
    "Budget participatif en ligne",
    "Demande d’acte d’état civil dématérialisée",
    "Suivi des interventions des services techniques",
)
SENTENCES = (
    "Aujourd’hui les demandes arrivent par téléphone et par courriel, et l’accueil les "
    "recopie dans un tableur partagé.",
    "Les habitants ne savent pas où en est leur demande et rappellent plusieurs fois.",
    "Nous voudrions un outil simple, utilisable sur téléphone, que les agents prennent en "
    "main sans formation.",
    "Les associations réservent souvent au dernier moment et les conflits de planning sont "
    "fréquents.",
    "Le service compte deux agents à temps partiel pour toute la commune.",
    "Un outil mutualisé avec les communes voisines de l’intercommunalité serait idéal.",
    "Les élus souhaitent un tableau de bord mensuel des demandes traitées.",
    "Les paiements se font encore par chèque, déposés en mairie aux heures d’ouverture.",
)
USAGES = ("informer", "reserver", "signaler", "payer", "demarche", "gerer", "participer")
CHILD = """
import sys
from pathlib import Path
from bot.app.cli import main
if sys.argv[1] == "profile":
    import cProfile, pstats
    profile = cProfile.Profile()
    code = profile.runcall(main, ["import", "contributions", sys.argv[2]])
    stats = pstats.Stats(profile, stream=sys.stderr)
    stats.sort_stats("cumulative").print_stats(60)
    stats.sort_stats("tottime").print_stats(15)
else:
    code = main(sys.argv[1:])
status = Path("/proc/self/status").read_text()
print(next(line for line in status.splitlines() if line.startswith("VmHWM")), file=sys.stderr)
sys.exit(code)
"""
"""The command in a child; its peak resident memory, ``VmHWM``, on its last line of errors
(the parent's ``ru_maxrss`` for children counts the parent's own pages, forked before exec)."""


def generate(path: Path, megabytes: float, unclassified: float = 0.2, seed: int = 2027) -> int:
    """Write the file; returns its number of rows."""
    rng = random.Random(seed)
    communes = default_referential().all("commune")
    thematiques = default_taxonomy().ids
    target = megabytes * 1_000_000
    records: list[dict[str, Any]] = []
    size = 0
    counters = {"besoin": 0, "service": 0}
    of_kind: dict[str, list[str]] = {"besoin": [], "service": []}
    start = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
    while size < target:
        n = len(records)
        kind = "service" if n % 10 == 9 else "besoin"
        counters[kind] += 1
        reference = f"{'B' if kind == 'besoin' else 'S'}-{counters[kind]:04d}"
        commune = communes[rng.randrange(len(communes))]
        need = NEEDS[n % len(NEEDS)]
        description = " ".join(rng.sample(SENTENCES, 4)) + f" Contribution numéro {n}."
        earlier = of_kind[kind]
        record: dict[str, Any] = {
            "reference": reference,
            "type": kind,
            "titre": f"{need} ({commune.name})"[:120],
            "description": description,
            "thematique": "" if rng.random() < unclassified else rng.choice(thematiques),
            "statut": "soumise",
            "date": (start + timedelta(minutes=n)).isoformat(timespec="seconds"),
            "collectivite": commune.name,
            "collectivite_type": "commune",
            "collectivite_code": "" if n % 10 == 3 else commune.code,
            "departement": commune.departement,
            "auteur_profil": "agent",
            "auteur_fonction": "DGS",
            "meme_besoin_que": rng.choice(earlier) if earlier and rng.random() < 0.25 else "",
            "usage": rng.choice(USAGES),
            "beneficiaires": "habitants, associations",
            "situation_actuelle": "Sur papier." if kind == "besoin" else "",
        }
        earlier.append(reference)
        records.append(record)
        size += sum(len(str(v)) for v in record.values()) + len(record)
    path.write_bytes(write_csv(CONTRIBUTION_COLUMNS, records))
    return len(records)


def run(url: str, data_dir: Path, path: Path, rows: int, profile: bool) -> None:
    env = dict(os.environ, RECUEIL_DATA_DIR=str(data_dir), RECUEIL_DATABASE_URL=url)
    env["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-c", CHILD]
    subprocess.run([*command, "db", "upgrade"], env=env, check=True, capture_output=True)
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = time.perf_counter()
    child = subprocess.run(
        [
            *command,
            *(["profile", str(path)] if profile else ["import", "contributions", str(path)]),
        ],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    wall = time.perf_counter() - before
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime - used.ru_utime - used.ru_stime
    errors = child.stderr.splitlines()
    peak = int(errors[-1].split()[1]) / 1024 if errors and errors[-1].startswith("VmHWM") else 0
    if child.returncode != 0 or profile:
        print("\n".join(errors))
    print(child.stdout.splitlines()[0] if child.stdout else f"exit code {child.returncode}")
    print(
        f"{rows} rows in {wall:.1f} s ({cpu:.1f} s CPU): {rows / wall:,.0f} rows/s "
        f"({rows / cpu:,.0f} per CPU second); peak memory {peak:,.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=50)
    parser.add_argument("--database-url", help="PostgreSQL URL (a fresh schema); SQLite else")
    parser.add_argument("--profile", action="store_true", help="cProfile in the child, top 60")
    parser.add_argument(
        "--unclassified",
        type=float,
        default=0.2,
        help="share of rows without a thématique, for the classifier (0.2 by default)",
    )
    parser.add_argument("--keep", type=Path, help="also write the generated file here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "contributions.csv"
        began = time.perf_counter()
        rows = generate(path, args.megabytes, args.unclassified)
        megabytes = path.stat().st_size / 1_000_000
        print(f"generated {rows} rows, {megabytes:.1f} MB in {time.perf_counter() - began:.1f} s")
        if args.keep:
            args.keep.write_bytes(path.read_bytes())
        if args.database_url:
            from intake import drop_schema, fresh_schema

            url = fresh_schema(args.database_url)
        else:
            url = f"sqlite:///{tmp}/recueil.sqlite3"
        try:
            run(url, Path(tmp), path, rows, args.profile)
        finally:
            if args.database_url:
                drop_schema(url)


if __name__ == "__main__":
    main()
