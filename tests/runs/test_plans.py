"""The default test plan follows the case's level and category; what a regulator edits is
checked against the engine's parameter dataclasses."""

import types

import pytest
from django.core.exceptions import ValidationError

from applications.models import Category, TechLevel
from assessments import plans
from assessments.engine.results import parse_parameters
from assessments.engine.suites import PARAMETERS
from assessments.forms import StartRunForm


def case(level, category):
    return types.SimpleNamespace(
        target_level=level, project=types.SimpleNamespace(category=category)
    )


@pytest.mark.parametrize(
    ("level", "category", "suites"),
    [
        (TechLevel.L0, Category.PAYMENT, ["block", "crypto", "consensus"]),
        (TechLevel.L1, Category.CLEARING, ["block", "crypto", "consensus"]),
        (TechLevel.L2, Category.PAYMENT, ["block", "crypto", "consensus", "payment"]),
        (TechLevel.L2, Category.INSURANCE, ["block", "crypto", "consensus", "payment"]),
        (TechLevel.L2, Category.OTHER, ["block", "crypto", "consensus", "payment"]),
        (TechLevel.L2, Category.CLEARING, ["block", "crypto", "consensus", "clearing"]),
        (
            TechLevel.L3,
            Category.TRADING,
            ["block", "crypto", "consensus", "payment", "monitoring"],
        ),
    ],
)
def test_the_default_suites_follow_level_and_category(level, category, suites):
    assert plans.default_suites(case(level, category)) == suites


def test_every_default_parameter_set_is_valid_for_its_suite():
    for name, given in plans.default_parameters().items():
        parse_parameters(PARAMETERS[name], given)


def test_the_defaults_keep_a_run_short():
    defaults = plans.default_parameters()
    assert defaults["block"]["observe_seconds"] <= 5
    assert defaults["consensus"]["duration_s"] <= 10
    # Enough transfers for a p99 with a finite 95 % interval (368), sent 50 at a time.
    assert 368 <= defaults["payment"]["transfers"] <= 10 * defaults["payment"]["accounts"]
    clearing = defaults["clearing"]
    assert len(clearing["rates"]) * clearing["step_seconds"] <= 10


def test_a_plan_keeps_the_running_order_and_overrides_only_given_keys():
    suites, parameters = plans.clean_plan(["crypto", "block"], {"block": {"blocks": 5}})
    assert suites == ["block", "crypto"]
    assert parameters == {
        "block": {"blocks": 5, "observe_seconds": 3.0},
        "crypto": plans.DEFAULT_PARAMETERS["crypto"],
    }


@pytest.mark.parametrize(
    ("suites", "parameters", "field", "words"),
    [
        ([], {}, "suites", "at least one"),
        (["quantum"], {}, "suites", "quantum"),
        (["block"], {"block": {"blocks": 1}}, "parameters", "blocks must be between"),
        (["block"], {"block": {"observe_seconds": "long"}}, "parameters", "observe_seconds"),
        (["payment"], {"payment": {"double_spend": "yes"}}, "parameters", "double_spend"),
        (["block"], {"block": []}, "parameters", "must be an object"),
        (["block"], {"nope": {}}, "parameters", "nope"),
        (["block"], [1, 2], "parameters", "keyed by suite"),
    ],
)
def test_a_bad_plan_is_refused_naming_what_is_wrong(suites, parameters, field, words):
    with pytest.raises(ValidationError) as caught:
        plans.clean_plan(suites, parameters)
    assert words in " ".join(caught.value.message_dict[field])


def test_the_form_reports_a_bad_key_on_the_parameters_field(people, testing_a):
    node = testing_a.nodes.get()
    form = StartRunForm(
        testing_a,
        data={"suites": ["crypto"], "nodes": [node.pk], "parameters": '{"crypto": {"max": 1}}'},
    )
    assert not form.is_valid()
    assert "max" in " ".join(form.errors["parameters"])


def test_the_form_accepts_an_empty_parameters_box_as_the_defaults(people, testing_a):
    node = testing_a.nodes.get()
    form = StartRunForm(testing_a, data={"suites": ["crypto"], "nodes": [node.pk]})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["parameters"] == {"crypto": plans.DEFAULT_PARAMETERS["crypto"]}


def test_the_form_only_offers_the_cases_own_nodes(people, testing_a):
    from applications.services import firms

    other = firms.save_node(
        people.firm_a,
        actor=people.alice,
        fields={"label": "spare", "endpoint_url": "http://127.0.0.1:9"},
    )
    form = StartRunForm(testing_a, data={"suites": ["crypto"], "nodes": [other.pk]})
    assert not form.is_valid()
    assert "nodes" in form.errors
