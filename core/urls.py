from django.urls import path

from . import people_views

app_name = "core"
urlpatterns = [
    path("", people_views.people_list, name="people"),
    path("nouvelle/", people_views.person_create, name="person_create"),
    path("<int:pk>/", people_views.person_detail, name="person"),
    path("<int:pk>/modifier/", people_views.person_edit, name="person_edit"),
    path("<int:pk>/inviter/", people_views.person_invite, name="person_invite"),
]
