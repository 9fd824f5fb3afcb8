from django.urls import path

from .views import deliberations, documents, exports, grids, juries, sessions

app_name = "evaluations"
urlpatterns = [
    path("sessions/", sessions.session_list, name="sessions"),
    path("sessions/nouvelle/", sessions.session_create, name="session_create"),
    path("sessions/<int:pk>/", sessions.session_detail, name="session"),
    path("sessions/<int:pk>/statut/", sessions.session_status, name="session_status"),
    path("sessions/<int:pk>/modifier/", sessions.session_edit, name="session_edit"),
    path("sessions/<int:pk>/remplacer/", sessions.session_replace, name="session_replace"),
    path("sessions/<int:pk>/annuler/", sessions.session_cancel, name="session_cancel"),
    path("sessions/planifier-un-bloc/", sessions.bloc_schedule, name="bloc_schedule"),
    path("evaluations/<int:pk>/grille/", grids.grid, name="grid"),
    path("evaluations/<int:pk>/presence/", sessions.assessment_presence, name="presence"),
    path("evaluations/<int:pk>/synthese/", grids.synthesis, name="synthesis"),
    path("evaluations/<int:pk>/historique/", grids.history, name="history"),
    path("jurys/", juries.jury_list, name="juries"),
    path("jurys/nouveau/", juries.jury_create, name="jury_create"),
    path("jurys/<int:pk>/", juries.jury_detail, name="jury"),
    path("jurys/<int:pk>/modifier/", juries.jury_edit, name="jury_edit"),
    path("jurys/<int:pk>/membres/", juries.jury_add_member, name="jury_add_member"),
    path(
        "jurys/<int:pk>/membres/<int:member_pk>/remplacer/",
        juries.jury_replace_member,
        name="jury_replace_member",
    ),
    path(
        "jurys/<int:pk>/membres/<int:member_pk>/retirer/",
        juries.jury_remove_member,
        name="jury_remove_member",
    ),
    path("jurys/<int:pk>/deports/", juries.jury_recuse, name="jury_recuse"),
    path("jurys/<int:pk>/independance/", juries.jury_declare, name="jury_declare"),
    path("jurys/<int:pk>/deliberer/", deliberations.jury_open_deliberation, name="jury_open"),
    path("deliberations/<int:pk>/", deliberations.deliberation_detail, name="deliberation"),
    path("deliberations/<int:pk>/decision/", deliberations.deliberation_decide, name="decide"),
    path("deliberations/<int:pk>/adopter/", deliberations.deliberation_adopt, name="adopt"),
    path("deliberations/<int:pk>/signer/", deliberations.deliberation_sign, name="sign"),
    path("deliberations/<int:pk>/rectifier/", deliberations.deliberation_rectify, name="rectify"),
    path("deliberations/<int:pk>/publier/", deliberations.deliberation_publish, name="publish"),
    path("deliberations/<int:pk>/pv.pdf", deliberations.deliberation_minutes, name="minutes"),
    path("deliberations/<int:pk>/lettres.pdf", deliberations.deliberation_letters, name="letters"),
    path(
        "deliberations/<int:pk>/candidats/<int:enrolment_pk>/blocs/<int:bloc_pk>/",
        deliberations.deliberation_candidate,
        name="deliberation_candidate",
    ),
    path(
        "sessions/<int:pk>/convocations.pdf",
        documents.session_convocations,
        name="session_convocations",
    ),
    path(
        "evaluations/<int:pk>/convocation.pdf",
        documents.assessment_convocation,
        name="convocation",
    ),
    path("sessions/<int:pk>/emargement.pdf", documents.session_attendance, name="attendance"),
    path(
        "promotions/<int:pk>/resultats.<str:fmt>",
        exports.cohort_results_export,
        name="cohort_results_export",
    ),
    path(
        "deliberations/<int:pk>/tableau.<str:fmt>",
        exports.deliberation_table_export,
        name="deliberation_export",
    ),
]
