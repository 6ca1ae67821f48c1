"""The workbench's guard: host check, access token, CSRF, and headers that keep pages inert.

- **Host**: on a loopback bind only requests whose Host header names the loopback address are
  served (a DNS-rebinding page cannot reach the app under its own name).
- **Token**: binding to any other address needs a token (:func:`check_bind`); every request
  must then carry it (``?token=`` once, which sets a cookie; or the cookie; or
  ``Authorization: Bearer``), else 401.
- **CSRF**: every POST must carry the app's CSRF token (a form field ``csrf`` or the header
  ``X-CSRF-Token``) and, when the browser sends one, an Origin of the app itself; else 403.
- **Headers**: a Content-Security-Policy that allows no script at all and nothing from another
  origin, no framing, no referrer (the token never leaves in a Referer).
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

TOKEN_COOKIE = "koe_review_token"
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")  # fmt: skip
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
           "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
           "Cache-Control": "no-store"}  # fmt: skip


class BindError(ValueError):
    """The address cannot be served as asked (a non-local bind without a token)."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Raise BindError when ``host`` is not a loopback address and there is no token."""
    if not is_loopback(host) and not token:
        raise BindError(f"--host {host} serves the workbench beyond this machine: it needs a "
                        "token (leave --token out and koe makes one)")  # fmt: skip


def new_token() -> str:
    return secrets.token_urlsafe(24)


@dataclass
class Guard:
    """What every request is checked against.

    allowed_hosts: Host header names (without port) that are served; empty: any.
    token: the access token; None: none needed (loopback bind).
    """

    allowed_hosts: frozenset[str] = frozenset()
    token: str | None = None
    csrf: str = field(default_factory=new_token)

    def _host_ok(self, request: Request) -> bool:
        if not self.allowed_hosts:
            return True
        host = request.headers.get("host", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return name in self.allowed_hosts

    def _token_ok(self, request: Request) -> bool:
        if self.token is None:
            return True
        offered = [request.cookies.get(TOKEN_COOKIE, ""), request.query_params.get("token", "")]
        bearer = request.headers.get("authorization", "")
        if bearer.lower().startswith("bearer "):
            offered.append(bearer[7:])
        return any(hmac.compare_digest(o.encode(), self.token.encode()) for o in offered if o)

    def refusal(self, request: Request) -> Response | None:
        """The response that refuses ``request``, or None when it may be served."""
        if not self._host_ok(request):
            return PlainTextResponse("koe review: unknown host", status_code=403)
        if not self._token_ok(request):
            return PlainTextResponse(
                "koe review: this workbench needs the token koe review printed when it "
                "started (open the URL it printed)", status_code=401)  # fmt: skip
        if self.token and request.query_params.get("token"):
            # the token leaves the URL: a cookie carries it from now on
            query = urlencode([(k, v) for k, v in request.query_params.multi_items()
                               if k != "token"])  # fmt: skip
            response = RedirectResponse(request.url.path + (f"?{query}" if query else ""),
                                        status_code=303)  # fmt: skip
            response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
            return response
        return None

    def csrf_ok(self, request: Request, form: dict[str, str]) -> bool:
        """A POST's CSRF token and Origin are the app's."""
        origin = request.headers.get("origin")
        if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
            return False
        offered = form.get("csrf") or request.headers.get("x-csrf-token", "")
        return hmac.compare_digest(offered.encode(), self.csrf.encode())


def parse_form(body: bytes) -> dict[str, str]:
    """An application/x-www-form-urlencoded body (the last value of a repeated field)."""
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[-1] for key, values in parsed.items()}


def safe_next(target: str) -> str:
    """A redirect target that stays in the app: a path, never another origin."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
