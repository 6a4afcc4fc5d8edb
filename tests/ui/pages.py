"""Small helpers the page tests share."""

from django.urls import reverse

from applications.models import Application


def case_url(app, tab=None):
    url = reverse("case-detail", args=[app.pk])
    return f"{url}?tab={tab}" if tab else url


def action_url(app, name):
    return reverse("case-action", args=[app.pk, name])


def post_action(client, app, name, data=None):
    return client.post(action_url(app, name), data or {})


def state_of(app):
    return Application.objects.get(pk=app.pk).state
