from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    FIRM = "firm", "Firm user"
    CASE_OFFICER = "case_officer", "Regulator (case officer)"
    APPROVER = "approver", "Regulator (approver)"
    AUDITOR = "auditor", "Auditor"
    STAFF = "staff", "Staff"


REGULATOR_ROLES = frozenset({Role.CASE_OFFICER, Role.APPROVER})


class User(AbstractUser):
    """A person using the portal. Whether a firm user is its firm's admin or a
    member is held on the firm membership, not here."""

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.FIRM)
    email = models.EmailField("email address", blank=True)

    class Meta:
        ordering = ["username"]

    @property
    def is_firm_user(self):
        return self.role == Role.FIRM

    @property
    def is_regulator(self):
        return self.role in REGULATOR_ROLES

    @property
    def is_case_officer(self):
        return self.role == Role.CASE_OFFICER

    @property
    def is_approver(self):
        return self.role == Role.APPROVER

    @property
    def is_auditor(self):
        return self.role == Role.AUDITOR

    @property
    def is_portal_staff(self):
        return self.role == Role.STAFF or self.is_superuser

    def __str__(self):
        return self.get_full_name() or self.username
