"""The office's forms on the referential: every value a request carries is read
through one of them, so a bad value gets a French message, never a 500."""

from django import forms
from django.core.validators import MinLengthValidator

from .models import Bloc, CertificationVersion
from .services import EDITABLE_MENTIONS

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MAX_SIGNATURE_BYTES = 1024 * 1024
SIGNATURE_FORMATS = {"PNG", "JPEG"}


class MentionsForm(forms.ModelForm):
    """The mentions printed on certificates, the Caisse des Dépôts'
    identifiers and one official code per bloc. It never saves: its
    `values()` and `bloc_codes()` go to blocks.services.update_mentions."""

    class Meta:
        model = CertificationVersion
        fields = EDITABLE_MENTIONS
        widgets = {
            "registration_decision_date": DATE_INPUT,
            "registration_end_date": DATE_INPUT,
            "signature_image": forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
        }
        error_messages = {
            "signature_image": {
                "invalid_image": "Le fichier envoyé n'est pas une image PNG ou JPEG lisible.",
            },
        }

    def __init__(self, *args, blocs, **kwargs):
        super().__init__(*args, **kwargs)
        self.blocs = list(blocs)
        for field in ("cdc_issuer_id", "cdc_certifier_id"):
            self.fields[field].min_length = 8
            self.fields[field].validators.append(MinLengthValidator(8))
            self.fields[field].widget.attrs["minlength"] = 8
            self.fields[field].error_messages["min_length"] = (
                "Cet identifiant compte exactement 8 caractères."
            )
            self.fields[field].error_messages["max_length"] = (
                "Cet identifiant compte exactement 8 caractères."
            )
        self.fields[
            "signature_image"
        ].help_text = "PNG ou JPEG, 1 Mo au plus ; imprimée au-dessus du nom du signataire."
        code_field = Bloc._meta.get_field("official_code")
        for bloc in self.blocs:
            self.fields[self.bloc_field(bloc)] = forms.CharField(
                label=f"Code officiel du bloc {bloc.number} : {bloc.title}",
                max_length=code_field.max_length,
                required=False,
                initial=bloc.official_code,
                validators=code_field.validators,
                help_text=(
                    f"Par exemple {self.instance.rncp_code or 'RNCP35307'}BC{bloc.number:02d}."
                ),
            )

    @staticmethod
    def bloc_field(bloc):
        return f"bloc_{bloc.pk}"

    def bloc_fields(self):
        return [self[self.bloc_field(bloc)] for bloc in self.blocs]

    def clean_signature_image(self):
        image = self.cleaned_data.get("signature_image")
        if not image or not hasattr(image, "content_type"):
            return image  # unchanged (a stored file) or removed (False)
        if image.size > MAX_SIGNATURE_BYTES:
            raise forms.ValidationError("L'image de la signature dépasse 1 Mo.")
        picture = getattr(image, "image", None)
        if picture is None or picture.format not in SIGNATURE_FORMATS:
            raise forms.ValidationError("L'image de la signature doit être au format PNG ou JPEG.")
        return image

    def clean(self):
        cleaned = super().clean()
        for bloc in self.blocs:
            name = self.bloc_field(bloc)
            if cleaned.get(name):
                cleaned[name] = cleaned[name].strip().upper()
        return cleaned

    def _post_clean(self):
        # The service validates and saves; the form only reads the request.
        pass

    def values(self):
        values = {field: self.cleaned_data[field] for field in EDITABLE_MENTIONS}
        signature = values.pop("signature_image")
        if signature is False:
            values["signature_image"] = False  # « Effacer » ticked
        elif signature is not None and hasattr(signature, "content_type"):
            values["signature_image"] = signature  # a new upload
        return values

    def bloc_codes(self):
        return {bloc.pk: self.cleaned_data[self.bloc_field(bloc)] for bloc in self.blocs}
