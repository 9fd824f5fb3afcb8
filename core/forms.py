"""Forms several apps share."""

from django import forms


class ReasonForm(forms.Form):
    """The written reason of a change that must be justified (revoking a
    certificate, rectifying a PV). The service refuses an empty reason with
    its own French message; the form only carries and labels it."""

    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, label, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = label

    def text(self):
        return self.cleaned_data["reason"] if self.is_valid() else ""
