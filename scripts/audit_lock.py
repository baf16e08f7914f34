"""Audit the locked dependencies for known vulnerabilities (pip-audit), as .ci/run does.

    .venv/bin/python scripts/audit_lock.py [requirements.lock …] [--strict]

Each lock is audited as it is pinned, without installing anything, against the PyPI
vulnerability data, then OSV's if PyPI's cannot be read. Exit 1 when a pinned version has a
known vulnerability. When neither database answers (no package could be audited: a machine
without access to them), it says so on stderr and exits 0, or 1 with ``--strict``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("pypi", "osv")


def audit(lock: Path, service: str) -> dict[str, Any] | None:
    """pip-audit's JSON report, or None if it could not run against ``service``."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip_audit",
            "--requirement",
            str(lock),
            "--no-deps",
            "--disable-pip",
            "--progress-spinner",
            "off",
            "--vulnerability-service",
            service,
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        print(f"pip-audit ({service}) failed: {last}", file=sys.stderr)
        return None
    return report


def pinned(lock: Path) -> int:
    return sum("==" in line for line in lock.read_text(encoding="utf-8").splitlines())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("locks", nargs="*", type=Path, default=[ROOT / "requirements.lock"])
    parser.add_argument("--strict", action="store_true", help="fail when nothing was audited")
    args = parser.parse_args()
    status = 0
    for lock in args.locks:
        for service in SERVICES:
            report = audit(lock, service)
            dependencies = report["dependencies"] if report else []
            audited = [d for d in dependencies if "skip_reason" not in d]
            if audited:
                break
        else:
            print(
                f"{lock.name}: NOT AUDITED, no vulnerability database could be read "
                f"({', '.join(SERVICES)}); {pinned(lock)} packages pinned",
                file=sys.stderr,
            )
            status = max(status, 1 if args.strict else 0)
            continue
        vulnerable = [d for d in audited if d.get("vulns")]
        skipped = [d["name"] for d in dependencies if "skip_reason" in d]
        for dependency in vulnerable:
            for vuln in dependency["vulns"]:
                fixes = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
                print(f"{dependency['name']}=={dependency['version']}: {vuln['id']} ({fixes})")
        print(
            f"{lock.name}: {len(audited)} packages audited against {service}, "
            f"{len(vulnerable)} vulnerable"
            + (f", not found: {', '.join(skipped)}" if skipped else "")
        )
        if vulnerable:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
