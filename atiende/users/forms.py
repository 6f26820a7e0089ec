from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from atiende.users import services
from atiende.users.models import TIME_ZONE_CHOICES, Role, Team
from atiende.users.selectors import assignable_users


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's login form, locked for a while after repeated failures."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "Usuario o contraseña incorrectos. Revisa ambos campos: distinguen mayúsculas "
            "y minúsculas."
        ),
        "locked": ngettext_lazy(
            "Demasiados intentos fallidos. Por seguridad, espera %(minutes)s minuto "
            "antes de volver a intentarlo.",
            "Demasiados intentos fallidos. Por seguridad, espera %(minutes)s minutos "
            "antes de volver a intentarlo.",
            "minutes",
        ),
    }

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        ip = client_ip(self.request)
        minutes = services.login_lockout_minutes(username=username, ip_address=ip)
        if minutes:
            raise forms.ValidationError(
                self.error_messages["locked"], code="locked", params={"minutes": minutes}
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            services.record_login_attempt(username=username, ip_address=ip, succeeded=False)
            raise
        services.record_login_attempt(username=username, ip_address=ip, succeeded=True)
        return cleaned


class ProfileForm(forms.Form):
    display_name = forms.CharField(label=_("Nombre visible"), max_length=120, required=False)
    email = forms.EmailField(label=_("Correo electrónico"), required=False)
    time_zone = forms.ChoiceField(label=_("Zona horaria"), choices=TIME_ZONE_CHOICES)
    language = forms.ChoiceField(label=_("Idioma"), choices=[])

    def __init__(self, *args, **kwargs):
        from django.conf import settings

        super().__init__(*args, **kwargs)
        self.fields["language"].choices = settings.LANGUAGES


class UserForm(forms.Form):
    username = forms.CharField(label=_("Usuario"), max_length=150)
    display_name = forms.CharField(label=_("Nombre visible"), max_length=120)
    email = forms.EmailField(label=_("Correo electrónico"), required=False)
    role = forms.ChoiceField(label=_("Rol"), choices=Role.choices, initial=Role.AGENT)
    teams = forms.ModelMultipleChoiceField(
        label=_("Equipos"),
        queryset=Team.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    is_active = forms.BooleanField(label=_("Puede ingresar"), required=False, initial=True)
    password = forms.CharField(
        label=_("Contraseña inicial"),
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text=_("Al menos 8 caracteres, no solo números."),
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["password"]
            self.fields["username"].disabled = True
        else:
            self.fields["password"].required = True
            del self.fields["is_active"]


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Nombre"), max_length=80)
    description = forms.CharField(label=_("Descripción"), max_length=255, required=False)
    members = forms.ModelMultipleChoiceField(
        label=_("Miembros"),
        queryset=assignable_users(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Nombre del token"),
        max_length=80,
        help_text=_("Por ejemplo: «Integración con el core de pólizas»."),
    )
