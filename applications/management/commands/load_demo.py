from django.core.management.base import BaseCommand, CommandError

from applications import demo
from applications.services import IllegalTransition, PermissionDenied, ValidationError


class Command(BaseCommand):
    help = (
        "Load the demo: firms, regulators, an auditor, cases at several stages and the "
        "reference node (http://127.0.0.1:$CHAIN_PORT). Running it again adds only what "
        f"is missing. Every demo login's password is '{demo.DEMO_PASSWORD}'."
    )

    def handle(self, *args, **options):
        try:
            created = demo.load(stdout=self.stdout)
        except (IllegalTransition, PermissionDenied, ValidationError) as exc:
            # For example a demo username already taken by someone with another role.
            message = getattr(exc, "message", None) or "; ".join(getattr(exc, "messages", []))
            raise CommandError(
                f"The demo cannot be loaded into this database: {message or exc}"
            ) from exc
        if created:
            self.stdout.write(
                self.style.SUCCESS(f"Demo loaded: {len(created)} objects and cases added.")
            )
        else:
            self.stdout.write("The demo is already loaded: nothing to add.")
