from django.urls import path

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
]
