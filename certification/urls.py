from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "Administration de la certification"
admin.site.site_title = "Certification"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="blocks:versions"), name="home"),
    path("connexion/", auth_views.LoginView.as_view(), name="login"),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("referentiel/", include("blocks.urls")),
    path("admin/", admin.site.urls),
]
