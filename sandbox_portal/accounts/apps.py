from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "sandbox_portal.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self):
        from . import signals  # noqa: F401
