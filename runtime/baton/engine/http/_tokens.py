"""RFC 9110's ``token``: what a method and a header name must be to travel on a request."""

from __future__ import annotations

import re

__all__ = ["TOKEN"]

TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
