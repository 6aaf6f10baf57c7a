"""The dashboard's static files (HTML, JavaScript, CSS), served by the gateway.

The page carries no token: it asks for one, keeps it in sessionStorage and sends it as
a Bearer token to the JSON routes, which enforce each role's access as for any client.
"""

from pathlib import Path

from werkzeug.security import safe_join
from werkzeug.wrappers import Response

FOLDER = Path(__file__).resolve().parent
CONTENT_TYPES = {".html": "text/html; charset=utf-8",
                 ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8"}
# Only the gateway's own files and routes: no inline script, no other origin.
SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; script-src 'self'; "
                                "style-src 'self'; img-src 'self'; "
                                "connect-src 'self'; form-action 'self'; "
                                "base-uri 'none'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def static_response(filename: str) -> Response:
    """Return a file of this folder, or 404 for anything else (Python files too)."""
    joined = safe_join(str(FOLDER), filename)
    path = Path(joined) if joined else None
    content_type = CONTENT_TYPES.get(path.suffix) if path else None
    if content_type is None or not path.is_file():
        return Response("未找到该页面。", status=404,
                        content_type="text/plain; charset=utf-8")
    return Response(path.read_bytes(), status=200, content_type=content_type,
                    headers=SECURITY_HEADERS)
