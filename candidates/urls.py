from django.urls import path

from . import civil_status_views, views

app_name = "candidates"
urlpatterns = [
    path("promotions/", views.cohort_list, name="cohorts"),
    path("promotions/nouvelle/", views.cohort_edit, name="cohort_create"),
    path("promotions/<int:pk>/", views.cohort_detail, name="cohort"),
    path("promotions/<int:pk>/modifier/", views.cohort_edit, name="cohort_edit"),
    path("promotions/<int:pk>/inscrire/", views.cohort_enrol, name="cohort_enrol"),
    path(
        "promotions/<int:pk>/nouveau-candidat/",
        views.cohort_new_candidate,
        name="cohort_new_candidate",
    ),
    path("promotions/<int:pk>/import/", views.cohort_import, name="cohort_import"),
    path("promotions/<int:pk>/inviter/", views.cohort_invite, name="cohort_invite"),
    path("candidats/", views.candidate_list, name="candidates"),
    path("candidats/nouveau/", views.candidate_edit, name="candidate_create"),
    path("candidats/<int:pk>/", views.candidate_detail, name="candidate"),
    path("candidats/<int:pk>/modifier/", views.candidate_edit, name="candidate_edit"),
    path("candidats/<int:pk>/inviter/", views.candidate_invite, name="candidate_invite"),
    path(
        "inscriptions/<int:pk>/modalites/",
        views.enrolment_registration,
        name="enrolment_registration",
    ),
    path("inscriptions/<int:pk>/retrait/", views.enrolment_withdraw, name="enrolment_withdraw"),
    path("mon-espace/", views.my_space, name="my_space"),
    path(
        "mon-espace/signaler-une-erreur/",
        civil_status_views.civil_status_report,
        name="civil_status_report",
    ),
    path(
        "signalements-etat-civil/<int:pk>/traiter/",
        civil_status_views.civil_status_report_close,
        name="civil_status_report_close",
    ),
]
