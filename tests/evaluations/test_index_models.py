"""Index models: the shipped default, locking, new versions, YAML import and export, admin."""

import io

import pytest
import yaml
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from assessments.evaluations import services, yaml_io
from assessments.evaluations.models import (
    DEFAULT_INDEX_NAME,
    Dimension,
    Frozen,
    IndexModel,
    Indicator,
    Layer,
)
from sandbox_portal.audit.models import AuditEvent
from tests.conftest import login


@pytest.fixture
def default(db):
    return IndexModel.objects.get(name=DEFAULT_INDEX_NAME, version=1)


def _default_document():
    return yaml.safe_load(yaml_io.DEFAULT_INDEX_FILE.read_text(encoding="utf-8"))


def test_every_install_has_the_default_index(default):
    layers = list(default.layers.values_list("code", flat=True))
    assert layers == ["protocol", "application", "operations", "institutional", "physical"]
    dimensions = set(
        Dimension.objects.filter(layer__index_model=default).values_list("code", flat=True)
    )
    assert {"consensus", "block", "crypto", "payment_latency", "payment_integrity"} <= dimensions
    assert {
        "clearing_throughput",
        "monitoring",
        "eligibility",
        "safeguards",
        "presence",
    } <= dimensions
    keys = set(
        Indicator.objects.filter(dimension__layer__index_model=default).values_list(
            "source_key", flat=True
        )
    )
    assert "crypto.checks.signatures_recover" in keys
    assert "payment.metrics.receipt_latency_s.p99" in keys
    assert "physical.zone_registration" in keys
    assert default.status == "draft"


def test_using_an_index_model_locks_it(people, submitted_a, default):
    services.create_evaluation(submitted_a, actor=people.olivia, index_model=default)
    default.refresh_from_db()
    assert default.status == "locked" and default.locked_at is not None


def test_a_locked_index_model_refuses_every_edit(people, submitted_a, default):
    services.create_evaluation(submitted_a, actor=people.olivia, index_model=default)
    default.refresh_from_db()
    layer = default.layers.first()
    dimension = layer.dimensions.first()
    indicator = dimension.indicators.first()
    original_weight = indicator.weight

    default.description = "Changed"
    with pytest.raises(Frozen):
        default.save()
    layer.weight = 9
    with pytest.raises(Frozen):
        layer.save()
    dimension.name = "Renamed"
    with pytest.raises(Frozen):
        dimension.save()
    indicator.weight = 42
    with pytest.raises(Frozen):
        indicator.save()
    with pytest.raises(Frozen):
        Indicator(dimension=dimension, code="new", name="New", source_kind="physical",
                  source_key="physical.servers_on_site").save()  # fmt: skip
    with pytest.raises(Frozen):
        indicator.delete()
    with pytest.raises(Frozen):
        default.delete()
    # Nor can a row be moved out of a locked tree into a draft one.
    draft = services.new_version(default)
    indicator.refresh_from_db()
    indicator.dimension = draft.layers.first().dimensions.first()
    with pytest.raises(Frozen):
        indicator.save()
    assert Indicator.objects.get(pk=indicator.pk).weight == original_weight


def test_a_new_version_copies_the_tree_and_is_editable(people, submitted_a, default):
    services.create_evaluation(submitted_a, actor=people.olivia, index_model=default)
    copy = services.new_version(default, actor=people.staff)
    assert (copy.name, copy.version, copy.status) == (default.name, 2, "draft")
    assert yaml_io.tree_of(copy) == yaml_io.tree_of(default)
    indicator = Indicator.objects.filter(dimension__layer__index_model=copy).first()
    indicator.weight = 5
    indicator.save()
    assert AuditEvent.objects.filter(action="index_model.new_version").exists()
    # New evaluations now use the latest version by default.
    evaluation = services.create_evaluation(submitted_a, actor=people.olivia)
    assert evaluation.index_model == copy


def test_only_staff_make_a_new_version(people, default):
    with pytest.raises(Exception, match="staff"):
        services.new_version(default, actor=people.olivia)
    assert IndexModel.objects.count() == 1


def test_yaml_export_and_import_round_trip(default):
    text = yaml_io.export_text(default)
    imported = services.import_index(text)
    assert imported.version == 2
    assert yaml_io.tree_of(imported) == yaml_io.tree_of(default)
    assert yaml_io.export_text(imported) == text
    # And it is the shipped file, read back.
    assert yaml_io.tree_of(default) == yaml_io.validate(_default_document()) | {
        "admit_threshold": 80,
        "conditions_threshold": 60,
    }


def test_a_yaml_error_names_its_path():
    document = _default_document()
    del document["layers"][1]["dimensions"][0]["indicators"][2]["rule"]["kind"]
    document["layers"][1]["dimensions"][0]["indicators"][0]["rule"] = {"kind": "linear", "upper": 3}
    document["layers"][0]["dimensions"][2]["indicators"][1]["source_key"] = "crypto.metrics"
    document["layers"][4]["dimensions"][0]["indicators"][0]["levels"] = [4]
    with pytest.raises(ValidationError) as refused:
        yaml_io.validate(document)
    messages = refused.value.messages
    assert "layers[1].dimensions[0].indicators[0].rule.lower: missing" in messages
    assert any(
        m.startswith("layers[1].dimensions[0].indicators[2].rule.kind: must be one of")
        for m in messages
    )
    assert any(m.startswith("layers[0].dimensions[2].indicators[1].source_key:") for m in messages)
    assert any(m.startswith("layers[4].dimensions[0].indicators[0].levels:") for m in messages)


def test_a_yaml_error_names_duplicates_and_unknown_sources():
    document = _default_document()
    indicators = document["layers"][0]["dimensions"][0]["indicators"]
    indicators[1]["code"] = indicators[0]["code"]
    indicators[2]["source_key"] = "quantum.checks.safety"
    with pytest.raises(ValidationError) as refused:
        yaml_io.validate(document)
    text = "\n".join(refused.value.messages)
    assert "layers[0].dimensions[0].indicators[1].code: 'safety' is used twice here" in text
    assert "layers[0].dimensions[0].indicators[2].source_key: unknown suite 'quantum'" in text


def test_the_import_command_creates_a_new_version(tmp_path, default):
    path = tmp_path / "index.yaml"
    path.write_text(yaml_io.export_text(default), encoding="utf-8")
    out = io.StringIO()
    call_command("import_index", str(path), stdout=out)
    assert "Access evaluation index v2" in out.getvalue()
    assert IndexModel.objects.filter(name=DEFAULT_INDEX_NAME).count() == 2


def test_the_import_command_refuses_a_bad_file_and_creates_nothing(tmp_path, default):
    path = tmp_path / "index.yaml"
    path.write_text("name: Broken\nlayers:\n  - code: x\n    name: X\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"layers\[0\]\.dimensions: missing"):
        call_command("import_index", str(path))
    path.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(CommandError, match="not valid YAML"):
        call_command("import_index", str(path))
    assert IndexModel.objects.count() == 1


def test_the_export_command_prints_a_version(default):
    services.new_version(default)
    out = io.StringIO()
    call_command("export_index", DEFAULT_INDEX_NAME, "--version", "1", stdout=out)
    assert yaml.safe_load(out.getvalue())["name"] == DEFAULT_INDEX_NAME
    with pytest.raises(CommandError, match="No index model"):
        call_command("export_index", DEFAULT_INDEX_NAME, "--version", "7")


def test_the_admin_shows_a_locked_index_model_read_only(client, people, submitted_a, default):
    people.staff.is_superuser = True
    people.staff.save()
    login(client, people.staff)
    url = reverse("admin:evaluations_indexmodel_change", args=[default.pk])
    editable = client.get(url).content.decode()
    assert 'name="description"' in editable
    services.create_evaluation(submitted_a, actor=people.olivia, index_model=default)
    page = client.get(url).content.decode()
    assert 'name="description"' not in page
    response = client.post(url, {"name": default.name, "version": 1, "description": "X"})
    assert response.status_code == 403
    indicator = Indicator.objects.filter(dimension__layer__index_model=default).first()
    ind_url = reverse("admin:evaluations_indicator_change", args=[indicator.pk])
    assert client.post(ind_url, {"weight": 9}).status_code == 403
    default.refresh_from_db()
    assert default.description != "X"


def test_the_admin_makes_a_new_version(client, people, default):
    people.staff.is_superuser = True
    people.staff.save()
    login(client, people.staff)
    response = client.post(
        reverse("admin:evaluations_indexmodel_changelist"),
        {"action": "make_new_version", "_selected_action": [default.pk]},
    )
    assert response.status_code == 302
    assert IndexModel.objects.filter(name=DEFAULT_INDEX_NAME, version=2).exists()


def test_layers_are_ordered_as_in_the_yaml(default):
    assert list(Layer.objects.filter(index_model=default).values_list("order", flat=True)) == [
        0,
        1,
        2,
        3,
        4,
    ]


def test_the_admin_offers_only_draft_index_models_for_new_rows(
    client, people, submitted_a, default
):
    people.staff.is_superuser = True
    people.staff.save()
    login(client, people.staff)
    services.create_evaluation(submitted_a, actor=people.olivia, index_model=default)
    draft = services.new_version(default)
    page = client.get(reverse("admin:evaluations_layer_add")).content.decode()
    assert f'<option value="{draft.pk}">' in page
    assert f'<option value="{default.pk}">' not in page
    response = client.post(
        reverse("admin:evaluations_layer_add"),
        {"index_model": default.pk, "code": "extra", "name": "Extra", "order": 9, "weight": 1,
         "dimensions-TOTAL_FORMS": 0, "dimensions-INITIAL_FORMS": 0},
    )  # fmt: skip
    assert response.status_code == 200  # the form refuses the locked choice
    assert not Layer.objects.filter(code="extra").exists()


def test_the_admin_refuses_deeply_nested_json_before_decoding_it(rf, people, default):
    from django.contrib import admin

    request = rf.get("/")
    request.user = people.staff
    form_class = admin.site._registry[Indicator].get_form(request)
    field = form_class.base_fields["categories"]
    with pytest.raises(ValidationError, match="longer than the limit"):
        field.clean("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValidationError, match="nested deeper than the limit"):
        field.clean("[" * 5_000 + "]" * 5_000)
    assert field.clean('["payment"]') == ["payment"]
