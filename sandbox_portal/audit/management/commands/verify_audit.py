from django.core.management.base import BaseCommand, CommandError

from sandbox_portal.audit.services import verify_chain


class Command(BaseCommand):
    help = "Check the hash chain of the audit trail; name the first broken event."

    def handle(self, *args, **options):
        report = verify_chain()
        if not report.intact:
            raise CommandError(
                f"Audit trail broken at event #{report.broken_seq}: {report.problem} "
                f"({report.checked} events before it are intact)."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit trail intact: {report.checked} events."))
