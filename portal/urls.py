from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("tableau-de-bord/", views.office_dashboard, name="office_dashboard"),
    path("tableau-de-bord/formateur/", views.trainer_dashboard, name="trainer_dashboard"),
    path("tableau-de-bord/jury/", views.jury_dashboard, name="jury_dashboard"),
    path("tableau-de-bord/promotions/<int:pk>/", views.cohort_heatmap, name="heatmap"),
    path("mon-parcours/", views.candidate_home, name="candidate_home"),
    path(
        "mon-parcours/decisions/<int:pk>/lettre.pdf",
        views.decision_letter,
        name="decision_letter",
    ),
    path("mes-donnees/", views.my_data, name="my_data"),
    path("mes-donnees.json", views.my_data, {"as_json": True}, name="my_data_json"),
    path("mon-parcours/releve-de-notes.pdf", views.my_transcript, name="my_transcript"),
    path(
        "mon-parcours/epreuves/<int:pk>/convocation.pdf",
        views.my_convocation,
        name="my_convocation",
    ),
    path("statistiques/", views.statistics_page, name="statistics"),
    path("statistiques/export.<str:fmt>", views.statistics_export, name="statistics_export"),
    path(
        "candidats/<int:pk>/releve-de-notes.pdf",
        views.candidate_transcript,
        name="candidate_transcript",
    ),
]
