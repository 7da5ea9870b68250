"""plotly.js as the service sends it: the installed package's file (no CDN), gzip-compressed once
per process (4.8 MB become about 1.5 MB), under a URL that names plotly's version so browsers
and proxies may keep it a year without asking again.

The plotly Python package ships only the full bundle (``package_data/plotly.min.js``), no
partial one, and building one would need npm and the network: compression is the saving here.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import threading

import plotly
from flask import Request, Response, send_file

VERSION = plotly.__version__
PATH = os.path.join(os.path.dirname(plotly.__file__), "package_data", "plotly.min.js")
# The URL changes with the version, so a cached copy can never be stale.
CACHE_CONTROL = "public, max-age=31536000, immutable"

_lock = threading.Lock()


@functools.cache
def _gzipped() -> tuple[bytes, str]:
    """The compressed file and its entity tag; mtime=0 keeps the bytes the same across processes."""
    with open(PATH, "rb") as source:
        body = gzip.compress(source.read(), compresslevel=9, mtime=0)
    return body, hashlib.sha256(body).hexdigest()[:32]


def gzipped() -> tuple[bytes, str]:
    # Compressing takes ~0.3 s: concurrent first requests wait for one compression, not several.
    with _lock:
        return _gzipped()


def response(request: Request) -> Response:
    """The file, compressed when the browser accepts gzip (every browser does), else as it is."""
    if request.accept_encodings["gzip"]:
        body, etag = gzipped()
        answer = Response(body, mimetype="text/javascript")
        answer.headers["Content-Encoding"] = "gzip"
        answer.set_etag(etag)
    else:
        answer = send_file(PATH, mimetype="text/javascript", etag=True, conditional=True)
    answer.headers["Cache-Control"] = CACHE_CONTROL
    answer.vary.add("Accept-Encoding")
    return answer.make_conditional(request)
