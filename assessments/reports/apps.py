from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "assessments.reports"
    label = "reports"
    verbose_name = "Access-evaluation reports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        import logging

        # WeasyPrint narrates every rendering step at INFO; its warnings still show.
        logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
