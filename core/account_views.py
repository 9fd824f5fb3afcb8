"""Every signed-in person changes their own password from the platform
(Django's views, French templates, the change audited)."""

from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.urls import reverse_lazy

from .accounts import change_password


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("core:password_change_done")

    def form_valid(self, form):
        user = change_password(form, user=self.request.user)
        # The session stays signed in with the new password; others are signed out.
        update_session_auth_hash(self.request, user)
        return HttpResponseRedirect(self.get_success_url())


password_change = PasswordChangeView.as_view()
password_change_done = auth_views.PasswordChangeDoneView.as_view(
    template_name="registration/password_change_done.html"
)
