"""Benchmark-only additions to the site, for scripts/benchmark_pages.py.

Never imported by the project: the benchmark serves it through a settings
module it writes in its temporary folder (ROOT_URLCONF = "bench_urls", with
scripts/ on PYTHONPATH only for the benchmark's processes). It adds:

- the bare view `/__banc__/nu/`: templates/base.html with an empty content
  block, for a signed-in user: what every page pays for the layout, the
  session and the user, the yardstick of the benchmark's ratios;
- `QueryCount`, a middleware answering the number of SQL queries a request
  made in the `X-Bench-Queries` header (the session's and the user's included).
"""

from django.contrib.auth.decorators import login_required
from django.db import connections
from django.http import HttpResponse
from django.template import engines
from django.urls import path

from certification.urls import urlpatterns as site_urlpatterns

BARE = '{% extends "base.html" %}{% block content %}{% endblock %}'


@login_required
def bare(request):
    template = engines["django"].from_string(BARE)
    return HttpResponse(template.render({}, request))


class QueryCount:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = 0

        def counted(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        wrappers = [connection.execute_wrapper(counted) for connection in connections.all()]
        for wrapper in wrappers:
            wrapper.__enter__()
        try:
            response = self.get_response(request)
        finally:
            for wrapper in reversed(wrappers):
                wrapper.__exit__(None, None, None)
        response["X-Bench-Queries"] = str(count)
        return response


urlpatterns = [path("__banc__/nu/", bare, name="bench_bare"), *site_urlpatterns]
