"""The content security policy allows no inline <style> elements or scripts: no page
template may carry one (the browser would drop it). The report template is rendered to a
PDF by WeasyPrint, never served, and keeps its styles inline."""

import re
from pathlib import Path

from django.conf import settings

NOT_SERVED = {Path("reports/report.html")}
INLINE_STYLE = re.compile(r"<style\b", re.I)
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I)


def _templates():
    root = Path(settings.BASE_DIR) / "templates"
    for path in sorted(root.rglob("*.html")):
        relative = path.relative_to(root)
        if relative not in NOT_SERVED:
            yield relative, path.read_text()


def test_page_templates_exist():
    assert len(list(_templates())) > 20


def test_no_page_template_has_an_inline_style_element_script_or_event_handler():
    offenders = [
        f"{name}: {kind}"
        for name, text in _templates()
        for kind, pattern in (
            ("<style>", INLINE_STYLE),
            ("inline <script>", INLINE_SCRIPT),
            ("on* handler", EVENT_HANDLER),
        )
        if pattern.search(text)
    ]
    assert offenders == [], "blocked by the content security policy: " + ", ".join(offenders)


def test_the_policy_still_refuses_inline_style_elements_and_scripts():
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    assert "'unsafe-inline'" not in directives["style-src-elem"]
    assert "'unsafe-inline'" not in directives["script-src"]
