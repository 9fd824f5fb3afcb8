from django.urls import path

from . import deliberation_views as jury_views
from . import views

app_name = "evaluations"
urlpatterns = [
    path("sessions/", views.session_list, name="sessions"),
    path("sessions/nouvelle/", views.session_create, name="session_create"),
    path("sessions/<int:pk>/", views.session_detail, name="session"),
    path("sessions/<int:pk>/statut/", views.session_status, name="session_status"),
    path("evaluations/<int:pk>/grille/", views.grid, name="grid"),
    path("evaluations/<int:pk>/presence/", views.assessment_presence, name="presence"),
    path("evaluations/<int:pk>/synthese/", views.synthesis, name="synthesis"),
    path("evaluations/<int:pk>/historique/", views.history, name="history"),
    path("jurys/", jury_views.jury_list, name="juries"),
    path("jurys/nouveau/", jury_views.jury_create, name="jury_create"),
    path("jurys/<int:pk>/", jury_views.jury_detail, name="jury"),
    path("jurys/<int:pk>/membres/", jury_views.jury_add_member, name="jury_add_member"),
    path("jurys/<int:pk>/independance/", jury_views.jury_declare, name="jury_declare"),
    path("jurys/<int:pk>/deliberer/", jury_views.jury_open_deliberation, name="jury_open"),
    path("deliberations/<int:pk>/", jury_views.deliberation_detail, name="deliberation"),
    path("deliberations/<int:pk>/decision/", jury_views.deliberation_decide, name="decide"),
    path("deliberations/<int:pk>/signer/", jury_views.deliberation_sign, name="sign"),
    path("deliberations/<int:pk>/rectifier/", jury_views.deliberation_rectify, name="rectify"),
    path("deliberations/<int:pk>/publier/", jury_views.deliberation_publish, name="publish"),
    path("deliberations/<int:pk>/pv.pdf", jury_views.deliberation_minutes, name="minutes"),
    path(
        "deliberations/<int:pk>/candidats/<int:enrolment_pk>/blocs/<int:bloc_pk>/",
        jury_views.deliberation_candidate,
        name="deliberation_candidate",
    ),
]
