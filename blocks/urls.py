from django.urls import path

from . import views

app_name = "blocks"
urlpatterns = [
    path("", views.version_list, name="versions"),
    path("<int:pk>/", views.version_detail, name="version"),
    path("<int:pk>/mentions/", views.version_mentions, name="version_mentions"),
    path("<int:pk>/mentions/signature/", views.version_signature, name="version_signature"),
    path("<int:pk>/blocs/<int:number>/", views.bloc_detail, name="bloc"),
]
