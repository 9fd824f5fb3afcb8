from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal import views as portal_views

from . import cpf_views, views

admin.site.site_header = "Administration de la certification"
admin.site.site_title = "Certification"

certificates = (
    [
        path("verifier/", views.verify_form, name="verify_form"),
        path("verifier/<str:code>/", views.verify, name="verify"),
        path("verifier/<str:code>.json", views.verify_json, name="verify_json"),
        path("verifier/<str:code>/fichier/", views.verify_file, name="verify_file"),
        path("verifier/<str:code>/fichier.json", views.verify_file_json, name="verify_file_json"),
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
        path("declarations-cpf/", cpf_views.declaration_list, name="cpf"),
        path("declarations-cpf/generer/", cpf_views.declaration_generate, name="cpf_generate"),
        path("declarations-cpf/flux/<int:number>/", cpf_views.flow_detail, name="cpf_flow"),
        path("declarations-cpf/flux/<int:number>/xml/", cpf_views.flow_xml, name="cpf_flow_xml"),
        path(
            "declarations-cpf/flux/<int:number>/resultats/",
            cpf_views.flow_outcomes_csv,
            name="cpf_outcomes_csv",
        ),
        path(
            "declarations-cpf/passages/<int:pk>/resultat/",
            cpf_views.passage_outcome,
            name="cpf_outcome",
        ),
        path(
            "declarations-cpf/certificats/<str:number>/correction/",
            cpf_views.certificate_correction,
            name="cpf_correction",
        ),
        path("certificats/registre.<str:fmt>", views.register_export, name="register_export"),
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
