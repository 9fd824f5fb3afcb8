from django import forms
from django.utils import timezone

from blocks.models import CertificationVersion


class StatisticsForm(forms.Form):
    """The version of the certification and the year of the statistics page
    (and of its exports). The years offered are those with published results;
    any year from 2000 to next year is accepted."""

    version = forms.ModelChoiceField(
        label="Version de la certification",
        queryset=CertificationVersion.objects.exclude(status=CertificationVersion.Status.DRAFT),
        empty_label=None,
        error_messages={
            "invalid_choice": "Choisissez une version de la certification de la liste."
        },
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    annee = forms.TypedChoiceField(
        label="Année (signature du PV)",
        coerce=int,
        error_messages={"invalid_choice": "Choisissez une année de la liste."},
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, data=None, *, years):
        super().__init__(data)
        this_year = timezone.localdate().year
        offered = sorted({*years, this_year}, reverse=True)
        # A year typed in the address is accepted as long as it is plausible.
        # An IntegerField (not str.isdigit(), true for "²") validates it.
        typed = forms.IntegerField(min_value=2000, max_value=this_year + 1, required=False)
        try:
            asked = typed.clean(data.get("annee")) if data else None
        except forms.ValidationError:
            asked = None
        if asked is not None:
            offered = sorted({*offered, asked}, reverse=True)
        self.fields["annee"].choices = [(year, str(year)) for year in offered]
