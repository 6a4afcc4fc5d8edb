"""Lifecycle actions over JSON: describe an action's form so a client can build
its payload, and turn a JSON payload into the data that form validates.

The action's form is the single validation of its input, shared with the
case page; this module only adapts the shape of the data.
"""

from django import forms
from django.http import QueryDict
from rest_framework.exceptions import ParseError

from ..actions import ActionInvalid
from ..forms import ConditionsField

# Fields whose JSON value is a list or an object rather than a single value.
_STRUCTURED = (forms.JSONField, ConditionsField, forms.MultipleChoiceField)


def field_type(field):
    if isinstance(field, ConditionsField):
        return "list"
    if isinstance(field, forms.JSONField):
        return "object"
    if isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
        return "multiple_choice"
    if isinstance(field, forms.ChoiceField | forms.ModelChoiceField):
        return "choice"
    if isinstance(field, forms.BooleanField):
        return "boolean"
    if isinstance(field, forms.IntegerField):
        return "integer"
    if isinstance(field, forms.DecimalField):
        return "decimal"
    if isinstance(field, forms.DateTimeField):
        return "datetime"
    if isinstance(field, forms.DateField):
        return "date"
    if isinstance(field, forms.EmailField):
        return "email"
    if isinstance(field, forms.FileField):
        return "file"
    if isinstance(field.widget, forms.Textarea):
        return "text"
    return "string"


def _choices(field):
    result = []
    for value, label in field.choices:
        value = getattr(value, "value", value)
        if value in ("", None):
            continue
        result.append({"value": value, "label": str(label)})
    return result


def describe_field(name, field):
    kind = field_type(field)
    described = {
        "name": name,
        "label": str(field.label or name.replace("_", " ").capitalize()),
        "type": kind,
        "required": field.required,
        "help": str(field.help_text or ""),
    }
    if kind in ("choice", "multiple_choice"):
        described["choices"] = _choices(field)
    if kind == "list":
        described["item_fields"] = [
            {"name": "text", "type": "string", "required": True},
            {"name": "due_date", "type": "date", "required": True},
        ]
    initial = field.initial
    if initial not in (None, "") and isinstance(initial, str | int | bool):
        described["initial"] = initial
    return described


def describe_action(action, application):
    """An action as the ``actions/`` endpoint lists it."""
    form = action.form(application)
    return {
        "name": action.name,
        "label": action.label,
        "description": action.description,
        "fields": [describe_field(name, field) for name, field in form.fields.items()],
    }


def form_data(action, application, data):
    """The payload as the action's form reads it.

    Form posts pass through. A JSON body must be an object; a list or object
    given where the form expects one value is refused field by field, and
    numbers become text as they would in a form post.
    """
    if isinstance(data, QueryDict):
        return data
    if not isinstance(data, dict):
        raise ParseError("The body must be a JSON object of the action's fields.")
    fields = action.form(application).fields
    prepared, errors = {}, {}
    for name, value in data.items():
        field = fields.get(name)
        if field is None or isinstance(field, _STRUCTURED) or value is None:
            prepared[name] = value
        elif isinstance(value, dict | list):
            errors[name] = [{"message": "Expected a single value.", "code": "invalid"}]
        elif isinstance(field, forms.BooleanField):
            prepared[name] = value
        else:
            prepared[name] = str(value).lower() if isinstance(value, bool) else str(value)
    if errors:
        raise ActionInvalid(errors)
    return prepared
