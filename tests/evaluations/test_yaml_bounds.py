"""Index-model YAML is bounded before anything is built: deeply nested, alias-bomb and
self-referencing documents are refused at once, naming the bound."""

import time

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from assessments.evaluations import yaml_io
from assessments.evaluations.models import IndexModel


def _bomb(levels=9):
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(levels):
        name, previous = chr(98 + i), chr(97 + i)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 10) + "]")
    return "\n".join(lines) + "\n"


REFUSED = {
    "deep flow": ("[" * 100_000 + "]" * 100_000, "nested deeper than the limit of 32 levels"),
    "deep block": ("".join("  " * i + "- \n" for i in range(200)), "nested deeper"),
    "alias bomb": (_bomb(), "more than the limit of 100,000 nodes"),
    "deep through aliases": (
        "a: &a " + "[" * 20 + "]" * 20 + "\nb: " + "[" * 20 + "*a" + "]" * 20 + "\n",
        "nested deeper",
    ),
    "self reference": ("a: &a [1, *a]\n", "the alias *a is inside its own anchor"),
    "too long": ("#" * 1_000_001, "longer than the limit of 1,000,000 characters"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_bounded_document_is_refused_at_once(case):
    text, words = REFUSED[case]
    started = time.perf_counter()
    with pytest.raises(ValidationError) as refused:
        yaml_io.parse(text)
    assert time.perf_counter() - started < 1.0
    assert words in " ".join(refused.value.messages)


def test_the_shipped_index_and_a_few_aliases_pass():
    text = yaml_io.DEFAULT_INDEX_FILE.read_text(encoding="utf-8")
    yaml_io.check_bounds(text)
    yaml_io.check_bounds("a: &a {x: 1}\nb: [*a, *a, *a]\n")
    yaml_io.check_bounds("[" * 32 + "]" * 32)
    with pytest.raises(ValidationError):
        yaml_io.check_bounds("[" * 33 + "]" * 33)


@pytest.mark.django_db
def test_import_index_refuses_deep_yaml_quickly_and_imports_nothing(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("name: x\nlayers: " + "[" * 100_000 + "]" * 100_000 + "\n")
    started = time.perf_counter()
    with pytest.raises(CommandError, match="nested deeper than the limit"):
        call_command("import_index", str(path))
    assert time.perf_counter() - started < 1.0
    assert not IndexModel.objects.filter(name="x").exists()
