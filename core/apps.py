from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Socle : journal d'audit et rôles"

    def ready(self):
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in, user_login_failed
        from django.db.backends.signals import connection_created

        from .collation import register_sqlite_collation
        from .idle_sessions import stamp_new_session
        from .signals import record_failed_login, record_lockout

        user_login_failed.connect(record_failed_login, dispatch_uid="core.record_failed_login")
        user_locked_out.connect(record_lockout, dispatch_uid="core.record_lockout")
        connection_created.connect(register_sqlite_collation, dispatch_uid="core.french_collation")
        user_logged_in.connect(stamp_new_session, dispatch_uid="core.stamp_new_session")
