"""Long lists in pages of 50, the page number read through a form and the
list's filters kept in the links to the other pages."""

from django import forms
from django.core.paginator import Paginator

PER_PAGE = 50


class PageForm(forms.Form):
    page = forms.IntegerField(required=False, min_value=1, max_value=10**6)

    def number(self):
        return (self.cleaned_data["page"] or 1) if self.is_valid() else 1


def paginate(request, items, *, per_page=PER_PAGE):
    """(the page of `items` asked for, the query string of the other pages'
    links without `page`). A page past the end shows the last one."""
    page = Paginator(items, per_page).get_page(PageForm(request.GET).number())
    others = request.GET.copy()
    others.pop("page", None)
    return page, others.urlencode()
