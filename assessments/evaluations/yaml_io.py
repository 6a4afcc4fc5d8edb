"""Index models as YAML: validate, import (always a new version) and export.

The YAML has the shape ``scoring`` reads (see its module doc) plus ``name`` and
``description``. Validation names the place of every problem in the document, e.g.
``layers[1].dimensions[0].indicators[2].rule.lower: missing``.
"""

from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Prefetch

from applications.models import Category

from . import scoring
from .inputs import source_error
from .models import DEFAULT_INDEX_NAME, Dimension, IndexModel, Indicator, Layer

DEFAULT_INDEX_FILE = Path(__file__).resolve().parent / "data" / "default_index.yaml"
CATEGORIES = tuple(value for value, _ in Category.choices)

# Bounds checked on the parser's events before any object is built (the shipped default
# index is about 14,000 characters, 8 levels deep, with no aliases).
YAML_MAX_CHARS = 1_000_000
YAML_MAX_DEPTH = 32
YAML_MAX_NODES = 100_000  # counted as aliases expand
YAML_MAX_ALIASES = 1_000


def check_bounds(text):
    """Refuse YAML text that is too long, nests too deeply, or has too many nodes, too many
    aliases or an alias inside its own anchor, with a ValidationError naming the bound.

    Reads only the parser's events (no recursion, nothing built), counting every alias as
    the nodes and levels it stands for, so an alias bomb stops at the first alias that
    crosses a bound. YAML that does not parse is left for ``parse`` to report.
    """
    if len(text) > YAML_MAX_CHARS:
        _refuse(f"longer than the limit of {YAML_MAX_CHARS:,} characters")
    frames = []  # per open collection: [anchor, nodes before it, height below it]
    anchored = {}  # anchor -> (nodes, height) of the node it names
    nodes = aliases = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            height = 0
            if isinstance(event, yaml.CollectionStartEvent):
                nodes += 1
                frames.append([event.anchor, nodes, 0])
                height = -1  # counted when it closes
            elif isinstance(event, yaml.CollectionEndEvent):
                anchor, start, height = frames.pop()
                height += 1
                if anchor is not None:
                    anchored[anchor] = (nodes - start + 1, height)
            elif isinstance(event, yaml.ScalarEvent):
                nodes += 1
                if event.anchor is not None:
                    anchored[event.anchor] = (1, 0)
            elif isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > YAML_MAX_ALIASES:
                    _refuse(f"more than the limit of {YAML_MAX_ALIASES:,} aliases")
                if any(frame[0] == event.anchor for frame in frames):
                    _refuse(f"the alias *{event.anchor} is inside its own anchor")
                size, height = anchored.get(event.anchor, (1, 0))
                nodes += size
            if len(frames) + max(height, 0) > YAML_MAX_DEPTH:
                _refuse(f"nested deeper than the limit of {YAML_MAX_DEPTH} levels")
            if nodes > YAML_MAX_NODES:
                _refuse(f"more than the limit of {YAML_MAX_NODES:,} nodes (aliases expanded)")
            if height > 0 and frames:
                frames[-1][2] = max(frames[-1][2], height)
    except yaml.YAMLError:
        return


def _refuse(reason):
    raise ValidationError(f"(document): {reason}")


class _Checker:
    def __init__(self):
        self.errors = []

    def fail(self, path, message):
        self.errors.append(f"{path}: {message}")

    def mapping(self, data, path):
        if not isinstance(data, dict):
            self.fail(path or "(document)", "must be a mapping")
            return False
        return True

    def text(self, data, key, path, required=True, default=""):
        value = data.get(key)
        if value is None or value == "":
            if required:
                self.fail(f"{path}{key}", "missing")
            return default
        if not isinstance(value, str):
            self.fail(f"{path}{key}", "must be text")
            return default
        return value.strip()

    def number(self, data, key, path, required=True, default=None, minimum=None):
        value = data.get(key)
        if value is None:
            if required:
                self.fail(f"{path}{key}", "missing")
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(f"{path}{key}", "must be a number")
            return default
        if minimum is not None and value < minimum:
            self.fail(f"{path}{key}", f"must be at least {minimum}")
            return default
        return value

    def boolean(self, data, key, path, default):
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.fail(f"{path}{key}", "must be true or false")
            return default
        return value

    def items(self, data, key, path):
        value = data.get(key)
        if value is None:
            self.fail(f"{path}{key}", "missing")
            return []
        if not isinstance(value, list) or not value:
            self.fail(f"{path}{key}", "must be a non-empty list")
            return []
        return value

    def code(self, data, path, seen):
        code = self.text(data, "code", path)
        if code and not code.replace("_", "").replace("-", "").isalnum():
            self.fail(f"{path}code", "letters, digits, - and _ only")
        elif code in seen:
            self.fail(f"{path}code", f"{code!r} is used twice here")
        seen.add(code)
        return code


def _rule(check, data, path):
    if not check.mapping(data, path.rstrip(".")):
        return {}
    kind = data.get("kind")
    if kind not in scoring.RULES:
        check.fail(f"{path}kind", f"must be one of {', '.join(scoring.RULES)}")
        return {}
    rule = {"kind": kind}
    if kind == scoring.THRESHOLD:
        operator = data.get("operator")
        if operator not in scoring.OPERATORS:
            check.fail(f"{path}operator", f"must be one of {' '.join(scoring.OPERATORS)}")
        rule["operator"] = operator
        rule["value"] = check.number(data, "value", path)
    elif kind == scoring.LINEAR:
        rule["lower"] = check.number(data, "lower", path)
        rule["upper"] = check.number(data, "upper", path)
        rule["higher_is_better"] = check.boolean(data, "higher_is_better", path, True)
        lower, upper = rule["lower"], rule["upper"]
        if lower is not None and upper is not None and lower >= upper:
            check.fail(f"{path}upper", "must be greater than lower")
    return rule


def _indicator(check, data, path, seen):
    if not check.mapping(data, path.rstrip(".")):
        return None
    code = check.code(data, path, seen)
    kind = check.text(data, "source_kind", path)
    key = check.text(data, "source_key", path)
    if kind and key:
        problem = source_error(kind, key)
        if problem:
            check.fail(f"{path}source_key", problem)
    if "rule" not in data:
        check.fail(f"{path}rule", "missing")
    categories = data.get("categories") or []
    if not isinstance(categories, list) or any(c not in CATEGORIES for c in categories):
        check.fail(f"{path}categories", f"must be a list of {', '.join(CATEGORIES)}")
        categories = []
    levels = data.get("levels") or []
    if not isinstance(levels, list) or any(
        isinstance(v, bool) or v not in (0, 1, 2, 3) for v in levels
    ):
        check.fail(f"{path}levels", "must be a list of technical levels 0 to 3")
        levels = []
    return {
        "code": code,
        "name": check.text(data, "name", path),
        "description": check.text(data, "description", path, required=False),
        "weight": check.number(data, "weight", path, required=False, default=1, minimum=0),
        "source_kind": kind,
        "source_key": key,
        "rule": _rule(check, data.get("rule"), f"{path}rule.") if "rule" in data else {},
        "mandatory": check.boolean(data, "mandatory", path, False),
        "categories": categories,
        "levels": sorted(levels),
        "pfmi_principle": check.text(data, "pfmi_principle", path, required=False),
    }


def validate(document):
    """The index tree in ``document`` (parsed YAML), normalised; ValidationError listing
    every problem by its path otherwise."""
    check = _Checker()
    if not check.mapping(document, ""):
        raise ValidationError(check.errors)
    tree = {
        "name": check.text(document, "name", ""),
        "description": check.text(document, "description", "", required=False),
        "admit_threshold": check.number(
            document, "admit_threshold", "", required=False, default=80, minimum=0
        ),
        "conditions_threshold": check.number(
            document, "conditions_threshold", "", required=False, default=60, minimum=0
        ),
        "layers": [],
    }
    layer_codes = set()
    for i, layer in enumerate(check.items(document, "layers", "")):
        lpath = f"layers[{i}]."
        if not check.mapping(layer, lpath.rstrip(".")):
            continue
        out = {
            "code": check.code(layer, lpath, layer_codes),
            "name": check.text(layer, "name", lpath),
            "weight": check.number(layer, "weight", lpath, required=False, default=1, minimum=0),
            "dimensions": [],
        }
        dim_codes = set()
        for j, dim in enumerate(check.items(layer, "dimensions", lpath)):
            dpath = f"{lpath}dimensions[{j}]."
            if not check.mapping(dim, dpath.rstrip(".")):
                continue
            dim_out = {
                "code": check.code(dim, dpath, dim_codes),
                "name": check.text(dim, "name", dpath),
                "weight": check.number(dim, "weight", dpath, required=False, default=1, minimum=0),
                "indicators": [],
            }
            ind_codes = set()
            for k, ind in enumerate(check.items(dim, "indicators", dpath)):
                parsed = _indicator(check, ind, f"{dpath}indicators[{k}].", ind_codes)
                if parsed:
                    dim_out["indicators"].append(parsed)
            out["dimensions"].append(dim_out)
        tree["layers"].append(out)
    if check.errors:
        raise ValidationError(check.errors)
    return tree


def parse(text):
    """Validated tree from YAML text; ValidationError for YAML that does not parse or
    crosses a bound (``check_bounds``)."""
    check_bounds(text)
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationError(f"(document): not valid YAML: {exc}") from exc
    return validate(document)


def _rule_fields(rule):
    return {
        "rule": rule.get("kind", scoring.PASS_FAIL),
        "operator": rule.get("operator") or "",
        "threshold": rule.get("value"),
        "lower": rule.get("lower"),
        "upper": rule.get("upper"),
        "higher_is_better": rule.get("higher_is_better", True),
    }


@transaction.atomic
def create_from_tree(tree, *, name=None):
    """A new draft IndexModel (next version of its name) holding ``tree``."""
    name = name or tree["name"]
    latest = IndexModel.objects.filter(name=name).aggregate(v=Max("version"))["v"] or 0
    index = IndexModel.objects.create(
        name=name,
        version=latest + 1,
        description=tree.get("description", ""),
        admit_threshold=tree.get("admit_threshold", 80),
        conditions_threshold=tree.get("conditions_threshold", 60),
    )
    for i, layer in enumerate(tree["layers"]):
        layer_row = Layer.objects.create(
            index_model=index, code=layer["code"], name=layer["name"], order=i,
            weight=layer["weight"],
        )  # fmt: skip
        for j, dim in enumerate(layer["dimensions"]):
            dim_row = Dimension.objects.create(
                layer=layer_row, code=dim["code"], name=dim["name"], order=j, weight=dim["weight"]
            )
            Indicator.objects.bulk_create(
                Indicator(
                    dimension=dim_row,
                    order=k,
                    code=ind["code"],
                    name=ind["name"],
                    description=ind.get("description", ""),
                    weight=ind["weight"],
                    source_kind=ind["source_kind"],
                    source_key=ind["source_key"],
                    mandatory=ind["mandatory"],
                    categories=ind["categories"],
                    levels=ind["levels"],
                    pfmi_principle=ind.get("pfmi_principle", ""),
                    **_rule_fields(ind["rule"]),
                )
                for k, ind in enumerate(dim["indicators"])
            )
    return index


def import_text(text):
    """Import YAML text as a new version of the index it names."""
    return create_from_tree(parse(text))


def _number(value):
    value = float(value)
    return int(value) if value == int(value) else value


def _maybe_number(value):
    return None if value is None else _number(value)


def _rule_of(indicator):
    rule = {"kind": indicator.rule}
    if indicator.rule == scoring.THRESHOLD:
        rule.update(operator=indicator.operator, value=_maybe_number(indicator.threshold))
    elif indicator.rule == scoring.LINEAR:
        rule.update(
            lower=_maybe_number(indicator.lower),
            upper=_maybe_number(indicator.upper),
            higher_is_better=indicator.higher_is_better,
        )
    return rule


def tree_of(index):
    """The index model as plain data (what ``scoring.evaluate`` and the YAML use)."""
    indicators = Prefetch("indicators", queryset=Indicator.objects.order_by("order", "pk"))
    dimensions = Prefetch(
        "dimensions",
        queryset=Dimension.objects.order_by("order", "pk").prefetch_related(indicators),
    )
    layers = index.layers.order_by("order", "pk").prefetch_related(dimensions)
    return {
        "name": index.name,
        "description": index.description,
        "admit_threshold": _number(index.admit_threshold),
        "conditions_threshold": _number(index.conditions_threshold),
        "layers": [
            {
                "code": layer.code,
                "name": layer.name,
                "weight": _number(layer.weight),
                "dimensions": [
                    {
                        "code": dim.code,
                        "name": dim.name,
                        "weight": _number(dim.weight),
                        "indicators": [
                            {
                                "code": ind.code,
                                "name": ind.name,
                                "description": ind.description,
                                "weight": _number(ind.weight),
                                "source_kind": ind.source_kind,
                                "source_key": ind.source_key,
                                "rule": _rule_of(ind),
                                "mandatory": ind.mandatory,
                                "categories": list(ind.categories),
                                "levels": list(ind.levels),
                                "pfmi_principle": ind.pfmi_principle,
                            }
                            for ind in dim.indicators.all()
                        ],
                    }
                    for dim in layer.dimensions.all()
                ],
            }
            for layer in layers
        ],
    }


def export_text(index):
    """The index model as YAML text that ``import_text`` reads back."""
    return yaml.safe_dump(tree_of(index), sort_keys=False, allow_unicode=True, width=100)


def load_default():
    """Import the shipped default index; returns it."""
    return import_text(DEFAULT_INDEX_FILE.read_text(encoding="utf-8"))


def default_index():
    """The latest version of the default index (loading it if none exists)."""
    index = IndexModel.objects.filter(name=DEFAULT_INDEX_NAME).order_by("-version").first()
    return index or load_default()
