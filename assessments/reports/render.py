"""HTML to PDF/A-3b with WeasyPrint, reading only the project's static files from disk.

``write_pdf`` embeds the evaluation's canonical JSON as the associated file
``evaluation.json`` (relationship Source) and the signature document as
``signature.json`` (relationship Data), so a report can be verified offline.

The URL fetcher is the only door WeasyPrint has to the outside: it answers static files
(``/static/...`` under the report's base URL, or ``file:`` URLs inside the static
directories) from disk and refuses everything else, so rendering never touches the
network whatever a template points at.
"""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from weasyprint import HTML, Attachment
from weasyprint.urls import URLFetcher, URLFetcherResponse

from .integrity import EVALUATION_ATTACHMENT, SIGNATURE_ATTACHMENT

logger = logging.getLogger(__name__)

# Relative URLs in report templates resolve against this origin. ``.invalid`` can never
# resolve (RFC 6761), and the fetcher never asks anyway.
BASE_URL = "https://report.invalid/"
PDF_VARIANT = "pdf/a-3b"


class FetchRefused(ValueError):
    """A report asked for something that is not a static file of the project."""


def _static_roots():
    roots = [Path(d if isinstance(d, str | Path) else d[1]) for d in settings.STATICFILES_DIRS]
    if settings.STATIC_ROOT:
        roots.append(Path(settings.STATIC_ROOT))
    return [root.resolve() for root in roots]


def _inside(path: Path, roots) -> bool:
    return any(path == root or root in path.parents for root in roots)


class StaticFileFetcher(URLFetcher):
    """Serves the project's static files from disk; refuses every other URL.

    ``refused`` lists what was asked for and refused, for logs and tests.
    """

    def __init__(self):
        super().__init__(allowed_protocols=("https", "file", "data"), allow_redirects=False)
        self.refused: list[str] = []
        self.served: list[str] = []

    def _static_path(self, url: str) -> Path | None:
        parts = urlsplit(url)
        if parts.scheme == "file":
            path = Path(unquote(parts.path)).resolve()
            return path if _inside(path, _static_roots()) and path.is_file() else None
        base = urlsplit(BASE_URL)
        prefix = "/" + settings.STATIC_URL.strip("/") + "/"
        if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
            return None
        if not parts.path.startswith(prefix):
            return None
        relative = unquote(parts.path[len(prefix) :])
        if not relative or ".." in Path(relative).parts:
            return None
        found = finders.find(relative) or Path(settings.STATIC_ROOT) / relative
        path = Path(found).resolve()
        return path if _inside(path, _static_roots()) and path.is_file() else None

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            # Inline data never leaves the process.
            return super().fetch(url, headers)
        path = self._static_path(url)
        if path is None:
            self.refused.append(url)
            logger.warning("report rendering refused to fetch %s", url)
            raise FetchRefused(f"reports read only the project's static files, not {url}")
        self.served.append(url)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            path.as_uri(), body=path.read_bytes(), headers={"Content-Type": content_type}
        )


def write_pdf(
    html: str,
    *,
    evaluation_json: bytes | None = None,
    signature_json: bytes | None = None,
    fetcher: StaticFileFetcher | None = None,
) -> bytes:
    """Render ``html`` to PDF/A-3b bytes, embedding the given JSON documents."""
    fetcher = fetcher or StaticFileFetcher()
    attachments = []
    if evaluation_json is not None:
        attachments.append(
            Attachment(
                string=evaluation_json,
                name=EVALUATION_ATTACHMENT,
                description="Canonical JSON of the issued evaluation (signed)",
                relationship="Source",
                url_fetcher=fetcher,
            )
        )
    if signature_json is not None:
        attachments.append(
            Attachment(
                string=signature_json,
                name=SIGNATURE_ATTACHMENT,
                description="Ed25519 signature of evaluation.json and the key fingerprint",
                relationship="Data",
                url_fetcher=fetcher,
            )
        )
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher)
    return document.write_pdf(pdf_variant=PDF_VARIANT, attachments=attachments)
