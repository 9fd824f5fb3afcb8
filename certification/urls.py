from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal import views as portal_views

from . import views

admin.site.site_header = "Administration de la certification"
admin.site.site_title = "Certification"

certificates = (
    [
        path("verifier/", views.verify_form, name="verify_form"),
        path("verifier/<str:code>/", views.verify, name="verify"),
        path("certificats/", views.certificate_list, name="certificates"),
        path("certificats/delivrer/", views.certificate_issue, name="issue"),
        path("certificats/retires/", views.revoke_withdrawn, name="revoke_withdrawn"),
        path("certificats/impression/", views.print_start, name="print_start"),
        path("certificats/impression/<int:pk>/", views.print_job, name="print_job"),
        path("certificats/impression/<int:pk>/reprendre/", views.print_resume, name="print_resume"),
        path(
            "certificats/impression/<int:pk>/fichier.<str:kind>",
            views.print_job_file,
            name="print_job_file",
        ),
        path("certificats/<str:number>/", views.certificate_detail, name="certificate"),
        path("certificats/<str:number>/pdf/", views.certificate_pdf, name="certificate_pdf"),
        path("certificats/<str:number>/revoquer/", views.certificate_revoke, name="revoke"),
        path("certificats/<str:number>/reediter/", views.certificate_reissue, name="reissue"),
        path(
            "certificats/<str:number>/delivrer-a-nouveau/",
            views.certificate_issue_again,
            name="issue_again",
        ),
        path("mes-certificats/", views.my_certificates, name="mine"),
    ],
    "certification",
)

urlpatterns = [
    path("", portal_views.home, name="home"),
    path("connexion/", auth_views.LoginView.as_view(), name="login"),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("mot-de-passe/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "mot-de-passe/envoye/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "mot-de-passe/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "mot-de-passe/termine/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("personnes/", include("core.urls")),
    path("referentiel/", include("blocks.urls")),
    path("", include("candidates.urls")),
    path("", include("evaluations.urls")),
    path("", include(certificates)),
    path("", include("portal.urls")),
    path("admin/", admin.site.urls),
]
