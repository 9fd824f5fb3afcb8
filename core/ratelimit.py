"""A per-address rate limit on the public pages, counted in Django's cache.

The public verification of a certificate (/verifier/) needs no account, so
nothing but its rate stops a script from trying codes: each client address
gets VERIFY_RATE_LIMIT requests a minute on RATE_LIMITED_PATHS, then a French
429 page until the minute ends. The counters live in the default cache: local
memory in one process, Redis (REDIS_URL) when several processes serve.
"""

import time

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render

WINDOW_SECONDS = 60


def client_ip(request):
    """The client's address: REMOTE_ADDR, or behind the reverse proxy
    (DJANGO_BEHIND_HTTPS_PROXY) the last address of X-Forwarded-For, the one
    the proxy added; earlier ones come from the client and can be forged.
    Also django-axes' AXES_CLIENT_IP_CALLABLE."""
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        addresses = [address.strip() for address in forwarded.split(",") if address.strip()]
        if addresses:
            return addresses[-1]
    return request.META.get("REMOTE_ADDR", "")


def current_window():
    return int(time.time() // WINDOW_SECONDS)


def hit(key):
    """Count one request under key in the current window; return the count."""
    window = current_window()
    cache_key = f"ratelimit:{key}:{window}"
    cache.add(cache_key, 0, timeout=WINDOW_SECONDS + 10)
    try:
        return cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=WINDOW_SECONDS + 10)
        return 1


class PublicRateLimitMiddleware:
    """Answers 429 past VERIFY_RATE_LIMIT requests a minute from one address
    on the public verification pages; 0 turns the limit off."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.VERIFY_RATE_LIMIT
        limited = limit and request.path_info.startswith(tuple(settings.RATE_LIMITED_PATHS))
        if limited and hit(f"verify:{client_ip(request)}") > limit:
            retry_after = WINDOW_SECONDS - int(time.time()) % WINDOW_SECONDS
            response = render(request, "429.html", {"retry_after": retry_after}, status=429)
            response["Retry-After"] = str(retry_after)
            return response
        return self.get_response(request)
