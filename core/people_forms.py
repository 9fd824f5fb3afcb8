"""The office's form for a trainer's or jury member's account."""

from django import forms

from .people import STAFF_ROLES


class PersonForm(forms.Form):
    first_name = forms.CharField(label="Prénom", max_length=150)
    last_name = forms.CharField(label="Nom", max_length=150)
    email = forms.EmailField(
        label="Adresse électronique",
        help_text="Elle sert d'identifiant et reçoit l'invitation.",
    )
    roles = forms.MultipleChoiceField(
        label="Rôles",
        choices=[(role, role.capitalize()) for role in STAFF_ROLES],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choisissez au moins un rôle : formateur ou membre de jury."},
    )
    organisation = forms.CharField(
        label="Organisme",
        max_length=200,
        required=False,
        help_text="Pour un professionnel extérieur : l'entreprise ou l'organisme d'où il vient.",
    )
    phone = forms.CharField(label="Téléphone", max_length=30, required=False)

    def values(self):
        """The form's values as the services take them."""
        return {field: self.cleaned_data[field] for field in self.base_fields if field != "invite"}


class NewPersonForm(PersonForm):
    invite = forms.BooleanField(
        label="Envoyer l'invitation tout de suite",
        required=False,
        initial=True,
        help_text="Un courriel avec un lien pour choisir son mot de passe.",
    )
