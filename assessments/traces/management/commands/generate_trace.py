"""Write an example consensus trace or ledger history (deterministic from the seed)."""

import sys

from django.core.management.base import BaseCommand, CommandError

from assessments.engine import tracegen


class Command(BaseCommand):
    help = (
        "Write a consensus trace (sandbox-consensus-trace/1) or a ledger history "
        "(sandbox-ledger-history/1), healthy or with one kind of fault, to a file or stdout."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--kind",
            default="healthy",
            choices=tracegen.KINDS,
            help="healthy or a fault; ledger_* kinds write a ledger history",
        )
        parser.add_argument(
            "--heights", type=int, default=20, help="heights (or blocks, for a ledger history)"
        )
        parser.add_argument(
            "--validators", type=int, default=4, help="validators (or accounts, for a ledger)"
        )
        parser.add_argument("--seed", type=int, default=1, help="the same seed, the same bytes")
        parser.add_argument("-o", "--output", default="-", help="file to write; - for stdout")

    def handle(self, *args, kind, heights, validators, seed, output, **options):
        if not 1 <= heights <= 10_000_000:
            raise CommandError("--heights must be 1-10000000")
        if not 1 <= validators <= 1000 or (kind.startswith("ledger") and validators < 2):
            raise CommandError("--validators must be 1-1000 (2 or more for a ledger history)")
        params = {"size": heights, "participants": validators, "seed": seed}
        if output == "-":
            count = tracegen.write(sys.stdout, kind, **params)
            sys.stdout.flush()
            return
        try:
            with open(output, "w", encoding="utf-8", newline="\n") as out:
                count = tracegen.write(out, kind, **params)
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc}") from None
        self.stderr.write(f"Wrote {count:,} lines ({kind}, seed {seed}) to {output}.")
