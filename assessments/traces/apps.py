from django.apps import AppConfig


class TracesConfig(AppConfig):
    name = "assessments.traces"
    label = "traces"
    verbose_name = "Uploaded consensus traces and ledger histories"
    default_auto_field = "django.db.models.BigAutoField"
