"""Export an index model as YAML: ``manage.py export_index NAME [--version N]``."""

from django.core.management.base import BaseCommand, CommandError

from assessments.evaluations import yaml_io
from assessments.evaluations.models import IndexModel


class Command(BaseCommand):
    help = "Print an index model (by default its latest version) as YAML."

    def create_parser(self, prog_name, subcommand, **kwargs):
        # ``--version`` names the index version here, not Django's.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("name", help='The index model\'s name, e.g. "Access evaluation index".')
        parser.add_argument("--version", type=int, dest="index_version", help="The version.")
        parser.add_argument("--output", "-o", help="Write to this file instead of stdout.")

    def handle(self, *args, **options):
        versions = IndexModel.objects.filter(name=options["name"]).order_by("-version")
        if options["index_version"] is not None:
            versions = versions.filter(version=options["index_version"])
        index = versions.first()
        if index is None:
            raise CommandError(
                f"No index model {options['name']!r}"
                + (f" version {options['index_version']}" if options["index_version"] else "")
                + "."
            )
        text = yaml_io.export_text(index)
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as out:
                out.write(text)
            self.stderr.write(f"Wrote {index} to {options['output']}.")
        else:
            self.stdout.write(text, ending="")
