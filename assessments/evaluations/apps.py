from django.apps import AppConfig


class EvaluationsConfig(AppConfig):
    name = "assessments.evaluations"
    label = "evaluations"
    verbose_name = "Access evaluations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import signals

        post_migrate.connect(signals.load_default_index, sender=self)
