"""Django-rendered HTML to PDF bytes: every document of the platform goes through here.

WeasyPrint fetches nothing but `data:` URLs and the project's own static files
(what `{% static %}` names, or a file inside a static folder): never the
network, never a file elsewhere on the machine, whatever text a document
carries. A refused resource is logged and left out; the PDF is still made."""

import logging
import mimetypes
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.utils._os import safe_join
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

logger = logging.getLogger(__name__)


def render_pdf(html):
    """PDF bytes of `html`; relative URLs resolve from the project's folder."""
    return HTML(
        string=html, base_url=str(settings.BASE_DIR), url_fetcher=StaticOnlyFetcher()
    ).write_pdf()


class ResourceRefused(PermissionError):
    """A resource the PDF renderer must not fetch."""


class StaticOnlyFetcher(URLFetcher):
    """WeasyPrint's fetcher narrowed to `data:` URLs and the static files."""

    def __init__(self):
        super().__init__(allowed_protocols={"data"}, allow_redirects=False, timeout=1)

    def fetch(self, url, headers=None):
        if url[:5].lower() == "data:":
            return super().fetch(url, headers)
        path = static_file(url)
        if path is None:
            logger.warning(
                "PDF : ressource refusée (seuls data: et les fichiers statiques du projet "
                "sont permis) : %s",
                url,
            )
            raise ResourceRefused(f"Ressource refusée : {url}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})


def static_file(url):
    """The project's static file `url` designates, or None.

    A `file:` URL counts when its path is a static URL (`/static/css/x.css`,
    as `{% static %}` writes it, resolved against the project's folder or the
    root) found by the staticfiles finders or in STATIC_ROOT, or when it lies
    inside one of the static folders. `..` is never followed."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        return None
    raw = unquote(parts.path)
    if ".." in PurePosixPath(raw).parts or "\x00" in raw:
        return None
    prefix = "/" + urlsplit(settings.STATIC_URL).path.strip("/") + "/"
    for base in ("", Path(settings.BASE_DIR).as_posix().rstrip("/")):
        if raw.startswith(base + prefix):
            found = _find_static(raw[len(base + prefix) :])
            if found is not None:
                return found
    path = Path(url2pathname(raw)).resolve()
    if path.is_file() and any(path.is_relative_to(root) for root in _static_roots()):
        return path
    return None


def _find_static(name):
    if not name:
        return None
    candidates = [finders.find(name)]
    if settings.STATIC_ROOT:  # collected (and hashed) names, in production
        try:
            candidates.append(safe_join(settings.STATIC_ROOT, name))
        except SuspiciousFileOperation:
            return None
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate).resolve()
    return None


def _static_roots():
    """Every folder the static files come from, resolved."""
    roots = []
    for finder in finders.get_finders():
        roots += [root for _prefix, root in getattr(finder, "locations", [])]
        roots += [storage.location for storage in getattr(finder, "storages", {}).values()]
    if settings.STATIC_ROOT:
        roots.append(settings.STATIC_ROOT)
    return [Path(root).resolve() for root in roots]
