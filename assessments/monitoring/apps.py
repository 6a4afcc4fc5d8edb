from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "assessments.monitoring"
    label = "monitoring"
    verbose_name = "Runtime monitoring"
    default_auto_field = "django.db.models.BigAutoField"
