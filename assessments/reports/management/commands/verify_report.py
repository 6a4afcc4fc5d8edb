"""``manage.py verify_report FILE.pdf [--public-key PEM] [--offline]``.

Checks that a report PDF is authentic and unaltered: the embedded evaluation's SHA-256
and the Ed25519 signature over it, with the portal's public key (or the one given). With
``--offline`` the database is not consulted (signature and hash only); otherwise the
command also looks up the issued evaluation with that hash. Exit code 0 when the report
is authentic, 1 when it is not (or cannot be checked).
"""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from assessments.reports import integrity, keys, services, verification


class Command(BaseCommand):
    help = "Verify that an access-evaluation report PDF is authentic and unaltered."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The report PDF.")
        parser.add_argument(
            "--public-key",
            help="A PEM file (or base64 raw key) of the portal's Ed25519 public key; "
            "default: the key from the settings.",
        )
        parser.add_argument(
            "--offline",
            action="store_true",
            help="Check the hash and signature only, without the database.",
        )

    def _public_key(self, option):
        if not option:
            return keys.public_key()
        path = Path(option)
        text = path.read_bytes() if path.is_file() else option.encode()
        try:
            return integrity.load_public_key(text)
        except integrity.InvalidKey as exc:
            raise CommandError(f"--public-key: {exc}") from exc

    def handle(self, *args, file, public_key=None, offline=False, **options):
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as exc:
            self.stderr.write(f"NOT AUTHENTIC: cannot read {path}: {exc.strerror}")
            raise SystemExit(1) from exc
        key = self._public_key(public_key)
        if offline:
            verdict = verification.inspect_pdf(data, key)
        else:
            try:
                verdict = services.verify_report(data, public_key=key)
            except ValidationError as exc:
                self.stdout.write(f"NOT AUTHENTIC: {exc.messages[0]}")
                raise SystemExit(1) from exc
        if not verdict.authentic:
            self.stdout.write(f"NOT AUTHENTIC: {verdict.reason}")
            if verdict.json_sha256:
                self.stdout.write(f"  evaluation.json SHA-256: {verdict.json_sha256}")
            raise SystemExit(1)
        self.stdout.write(f"AUTHENTIC: {verdict.reason}")
        self.stdout.write(f"  report: {verdict.report}")
        self.stdout.write(f"  evaluation.json SHA-256: {verdict.json_sha256}")
        self.stdout.write(f"  public key fingerprint: {verdict.key_fingerprint}")
        if verdict.evaluation:
            ev = verdict.evaluation
            self.stdout.write(
                f"  evaluation {ev['id']} version {ev['version']} of {ev['case_reference']}, "
                f"issued {ev['issued_at']}"
            )
        elif offline:
            self.stdout.write("  (offline: the portal's records were not consulted)")
