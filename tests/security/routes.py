"""Every route of the URL configuration, and a concrete URL for it against Firm A's objects."""

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class Route:
    key: str  # the route's name (with namespace), or its pattern when it has none
    pattern: str
    is_api: bool
    is_admin: bool
    methods: tuple  # the HTTP methods the view answers, when the view says so

    def url(self, values):
        """The route's path with each parameter replaced by ``values[parameter]``."""
        path = self.pattern.replace("^", "").replace("$", "")

        def fill(match):
            return str(values[match.group("name")])

        path = re.sub(r"\(\?P<(?P<name>\w+)>[^)]*\)", fill, path)
        path = re.sub(r"<(?:\w+:)?(?P<name>\w+)>", fill, path)
        return "/" + path

    @property
    def parameters(self):
        return re.findall(r"<(?:\w+:)?(\w+)>", self.pattern)


def _methods(callback):
    actions = getattr(callback, "actions", None)
    if actions:
        return tuple(sorted(m.upper() for m in actions))
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view_class is not None:
        names = getattr(view_class, "http_method_names", [])
        return tuple(sorted(m.upper() for m in names if hasattr(view_class, m)))
    return ()


def _walk(patterns, prefix="", namespace=None):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = entry.name and (f"{namespace}:{entry.name}" if namespace else entry.name)
            yield prefix + str(entry.pattern), name, entry.callback


def all_routes():
    """Every route, page and API, router routes included, from ``get_resolver()``."""
    routes = []
    for pattern, name, callback in _walk(get_resolver().url_patterns):
        clean = pattern.replace("^", "").replace("$", "")
        routes.append(
            Route(
                key=name or pattern,
                pattern=pattern,
                is_api=clean.startswith("api/"),
                is_admin=clean.startswith("admin/"),
                methods=_methods(callback),
            )
        )
    return routes
