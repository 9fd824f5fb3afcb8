"""Forms several apps share."""

from django import forms
from django.core.exceptions import ValidationError


class ReasonForm(forms.Form):
    """The written reason of a change that must be justified (revoking a
    certificate, rectifying a PV). The service refuses an empty reason with
    its own French message; the form carries and labels it, and refuses what
    no reason may hold (a NUL character)."""

    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, label, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = label

    def text(self):
        """The reason; ValidationError (French messages) if the form refuses it."""
        if not self.is_valid():
            raise ValidationError(
                [f"{self.fields['reason'].label} : {message}" for message in self.errors["reason"]]
            )
        return self.cleaned_data["reason"]


class SearchForm(forms.Form):
    """The search box of a list page (`?q=`): the text sought, or nothing."""

    q = forms.CharField(required=False, max_length=100)

    def query(self):
        return self.cleaned_data["q"] if self.is_valid() else ""


def id_from(raw):
    """A database id read from a raw parameter, or 0 (which no row has) when
    it is not one: "²", "٣" or forty digits give 0, never an exception."""
    raw = raw or ""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else 0
