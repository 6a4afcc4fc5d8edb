"""Firms, their people and the physical tier: zones, registrations, personnel, nodes."""

from django.conf import settings
from django.core.validators import URLValidator
from django.db import models

from .choices import MembershipRole, ZoneKind

endpoint_validator = URLValidator(
    schemes=["http", "https", "ws", "wss"],
    message="Enter an http(s) or ws(s) URL, for example https://node.example.com:8545.",
)


class Zone(models.Model):
    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=30, choices=ZoneKind.choices)
    policies = models.TextField(blank=True, help_text="The zone's policies for hosted firms.")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Firm(models.Model):
    name = models.CharField(max_length=200, unique=True)
    legal_name = models.CharField(max_length=200, blank=True)
    registration_number = models.CharField(max_length=60, blank=True)
    contact_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class FirmMembership(models.Model):
    """A user's place in a firm. Removal deactivates; nothing is deleted."""

    firm = models.ForeignKey(Firm, on_delete=models.PROTECT, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(
        max_length=10, choices=MembershipRole.choices, default=MembershipRole.MEMBER
    )
    is_active = models.BooleanField(default=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["firm", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["firm", "user"], name="unique_firm_membership"),
        ]

    def __str__(self):
        return f"{self.user} at {self.firm} ({self.get_role_display()})"

    @property
    def is_admin(self):
        return self.role == MembershipRole.ADMIN


class ZoneRegistration(models.Model):
    firm = models.ForeignKey(Firm, on_delete=models.PROTECT, related_name="zone_registrations")
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="registrations")
    registered_address = models.TextField()
    registration_number = models.CharField(max_length=60)
    registered_on = models.DateField()

    class Meta:
        ordering = ["firm", "zone"]
        constraints = [
            models.UniqueConstraint(fields=["firm", "zone"], name="unique_zone_registration"),
        ]

    def __str__(self):
        return f"{self.firm} in {self.zone} ({self.registration_number})"


class Personnel(models.Model):
    firm = models.ForeignKey(Firm, on_delete=models.PROTECT, related_name="personnel")
    name = models.CharField(max_length=150)
    role = models.CharField(max_length=120)
    on_site = models.BooleanField(default=True)

    class Meta:
        ordering = ["firm", "name"]
        verbose_name_plural = "personnel"

    def __str__(self):
        return f"{self.name} ({self.role})"


class Node(models.Model):
    """A node or server in the firm's server station. Only endpoints registered
    here can ever be targets of the test engine."""

    firm = models.ForeignKey(Firm, on_delete=models.PROTECT, related_name="nodes")
    label = models.CharField(max_length=120)
    endpoint_url = models.CharField(max_length=500, validators=[endpoint_validator])
    location = models.CharField(max_length=200, blank=True)
    operator = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["firm", "label"]
        constraints = [
            models.UniqueConstraint(fields=["firm", "label"], name="unique_node_label"),
        ]

    def __str__(self):
        return f"{self.label} ({self.endpoint_url})"
