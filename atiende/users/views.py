from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from atiende.core.forms import add_service_errors
from atiende.core.permissions import require
from atiende.users import selectors, services
from atiende.users.forms import (
    ApiTokenForm,
    ProfileForm,
    TeamForm,
    ThrottledAuthenticationForm,
    UserForm,
)
from atiende.users.models import AgentStatus, ApiToken, Role, Team, User

PAGE_SIZE = 25


class LoginView(auth_views.LoginView):
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Leaving Atiende also stops new conversations from reaching the agent."""
    if request.user.is_authenticated:
        services.set_agent_status(user=request.user, status=AgentStatus.OFFLINE, by=request.user)
    return auth_views.LogoutView.as_view()(request)


@require_POST
def set_language_view(request: HttpRequest) -> HttpResponse:
    language = request.POST.get("language", "")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        next_url = "/"
    if request.user.is_authenticated:
        try:
            services.set_language(user=request.user, language=language)
        except ValidationError:
            messages.error(request, _("Idioma no disponible."))
            return redirect(next_url)
    response = redirect(next_url)
    if language in {code for code, _name in settings.LANGUAGES}:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax"
        )
    return response


@login_required
def agent_status_view(request: HttpRequest) -> HttpResponse:
    """GET: the top-bar toggle (re-fetched when another tab changes it); POST: change it."""
    if request.method == "GET":
        return render(request, "users/_agent_status.html")
    if request.method != "POST":
        return HttpResponse(status=405)
    try:
        services.set_agent_status(
            user=request.user, status=request.POST.get("status", ""), by=request.user
        )
    except ValidationError:
        return HttpResponse(_("Estado desconocido."), status=400)
    if request.htmx:
        return render(request, "users/_agent_status.html")
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, {request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "core:home"
    return redirect(next_url)


@login_required
def profile_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = ProfileForm(
        request.POST or None,
        initial={
            "display_name": user.display_name,
            "email": user.email,
            "time_zone": user.time_zone,
            "language": user.language,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_profile(user=user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Perfil actualizado."))
            return redirect("users:profile")
    return render(request, "users/profile.html", {"form": form, "section": "profile"})


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "users/password_change.html"
    extra_context = {"section": "password"}

    def form_valid(self, form):
        messages.success(self.request, _("Tu contraseña fue cambiada."))
        return super().form_valid(form)

    def get_success_url(self) -> str:
        return reverse("users:profile")


@login_required
def api_tokens_view(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, new_token = services.issue_api_token(
                user=request.user, name=form.cleaned_data["name"], by=request.user
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            form = ApiTokenForm()
    tokens = selectors.api_tokens_of(user=request.user)[:100]
    return render(
        request,
        "users/api_tokens.html",
        {"form": form, "tokens": tokens, "new_token": new_token, "section": "tokens"},
    )


@login_required
@require_POST
def api_token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk)
    services.revoke_api_token(token=token, by=request.user)
    messages.success(request, _("Token revocado: ya no sirve para ingresar a la API."))
    return redirect("users:api_tokens")


@login_required
def users_list_view(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    role = request.GET.get("role", "")
    team_id = request.GET.get("team") or None
    users = selectors.users_list(
        viewer=request.user,
        q=q,
        role=role if role in Role.values else "",
        team_id=int(team_id) if team_id and team_id.isdigit() else None,
    )
    page = Paginator(users, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "users/users_list.html",
        {
            "page": page,
            "q": q,
            "role": role,
            "team_id": team_id,
            "roles": Role.choices,
            "teams": Team.objects.order_by("name"),
            "section": "users",
        },
    )


@login_required
def user_edit_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    require(request.user, "users.manage_users")
    target = get_object_or_404(User, pk=pk) if pk else None
    initial = {}
    if target:
        initial = {
            "username": target.username,
            "display_name": target.display_name,
            "email": target.email,
            "role": target.role,
            "teams": list(target.teams.all()),
            "is_active": target.is_active,
        }
    form = UserForm(request.POST or None, initial=initial, editing=target is not None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if target:
                services.update_user(
                    by=request.user,
                    user=target,
                    display_name=data["display_name"],
                    email=data["email"],
                    role=data["role"],
                    is_active=data["is_active"],
                    teams=list(data["teams"]),
                )
            else:
                target = services.create_user(
                    by=request.user,
                    username=data["username"],
                    password=data["password"],
                    display_name=data["display_name"],
                    email=data["email"],
                    role=data["role"],
                    teams=list(data["teams"]),
                )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Usuario guardado: %(name)s.") % {"name": target.name})
            return redirect("users:list")
    return render(
        request,
        "users/user_form.html",
        {"form": form, "target": target, "section": "users"},
    )


@login_required
def teams_list_view(request: HttpRequest) -> HttpResponse:
    teams = selectors.teams_list(viewer=request.user)
    page = Paginator(teams, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "users/teams_list.html", {"page": page, "section": "teams"})


@login_required
def team_edit_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    require(request.user, "users.manage_teams")
    team = get_object_or_404(Team, pk=pk) if pk else None
    initial = {}
    if team:
        initial = {
            "name": team.name,
            "description": team.description,
            "members": list(team.members.all()),
        }
    form = TeamForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            team = services.save_team(
                by=request.user,
                team=team,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                members=list(form.cleaned_data["members"]),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Equipo guardado: %(name)s.") % {"name": team.name})
            return redirect("users:teams")
    return render(request, "users/team_form.html", {"form": form, "team": team, "section": "teams"})


@login_required
def online_view(request: HttpRequest) -> HttpResponse:
    """Who is online, for supervisors; the page re-fetches its list on presence events."""
    users = selectors.online_users(viewer=request.user)[:200]
    template = "users/_online_list.html" if request.htmx else "users/online.html"
    return render(request, template, {"online": users, "section": "online"})
