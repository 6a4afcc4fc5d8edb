"""Import an index model from YAML as a new version: ``manage.py import_index FILE.yaml``."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from assessments.evaluations import services


class Command(BaseCommand):
    help = "Import an index model from a YAML file as a new draft version of its name."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The YAML file.")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        try:
            index = services.import_index(text)
        except ValidationError as exc:
            raise CommandError(
                f"{path} is not a valid index model:\n  " + "\n  ".join(exc.messages)
            ) from exc
        count = sum(
            d.indicators.count() for layer in index.layers.all() for d in layer.dimensions.all()
        )
        self.stdout.write(f"Imported {index} ({count} indicators) as a draft.")
