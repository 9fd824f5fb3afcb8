import pytest
from django.urls import reverse

from core.links import path_maker


@pytest.mark.parametrize(
    "view_name",
    ["evaluations:grid", "evaluations:history", "evaluations:presence", "evaluations:synthesis"],
)
def test_a_path_maker_gives_what_reverse_gives(view_name):
    make = path_maker(view_name)
    for pk in (1, 7, 30, 12345):
        assert make(pk) == reverse(view_name, args=[pk])
