from django.urls import path

from . import account_views, outbox_views, people_views

app_name = "core"
urlpatterns = [
    path("", people_views.people_list, name="people"),
    path("nouvelle/", people_views.person_create, name="person_create"),
    path("<int:pk>/", people_views.person_detail, name="person"),
    path("<int:pk>/modifier/", people_views.person_edit, name="person_edit"),
    path("<int:pk>/inviter/", people_views.person_invite, name="person_invite"),
    path("courriels/", outbox_views.outbox, name="outbox"),
    path("courriels/renvoyer/", outbox_views.outbox_retry, name="outbox_retry"),
    path("mon-mot-de-passe/", account_views.password_change, name="password_change"),
    path(
        "mon-mot-de-passe/change/",
        account_views.password_change_done,
        name="password_change_done",
    ),
]
