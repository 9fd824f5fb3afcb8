"""The audit log read aloud: each event as one French sentence.

    Note modifiée : C1.4 « sa capacité à rédiger avec clarté et précision une
    feuille… » Acquis → Maîtrisé, motif : erreur de saisie

core holds the mechanism; each app says how its own actions read, in its own
`history.py` module, with `@describes(Action.…)`. Those modules are found by
Django's autodiscovery (as the admin finds `admin.py`) the first time a
history is read, so core never imports the apps above it.

A describer turns one event into a sentence from the event alone, or with a
context its `prepare(events)` fetched for every event of the page at once (a
criterion's label, a scale's levels, a person's name): a page of twenty
events runs the same queries as a page of two. A describer that trips over
unexpected data (an old event, a format since changed) never breaks the page:
the event reads as its action's French label.
"""

import logging
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import autodiscover_modules

from .models import Action, AuditEvent
from .people import display_name

logger = logging.getLogger(__name__)

SHORT = 60  # a label (criterion, file name) in a sentence
LONG = 200  # free text someone typed (a reason, a comment)
EMPTY = "vide"


@dataclass(frozen=True)
class Describer:
    describe: Callable[[AuditEvent, Any], str]
    prepare: Callable[[list[AuditEvent]], Any] | None = None


_describers: dict[str, Describer] = {}
_discovered = False


def describes(*actions, prepare=None):
    """Register the decorated `describe(event, context)` for `actions`.

    `prepare(events)`, if given, runs once per page with every event of those
    actions (and of any other action sharing the same `prepare`); what it
    returns is the `context` of each call of `describe`."""

    def register(describe):
        for action in actions:
            action = Action(action)
            if action in _describers:
                raise ImproperlyConfigured(f"Deux descriptions pour l'action {action}.")
            _describers[action] = Describer(describe, prepare)
        return describe

    return register


def plainly(*actions):
    """Actions whose label says it all (« Grille remise »)."""
    describes(*actions)(lambda event, context: label(event))


def described_actions():
    """The actions that have a sentence of their own."""
    _discover()
    return set(_describers)


class HistoryLine(NamedTuple):
    event: AuditEvent
    sentence: str

    @property
    def actor(self):
        return person(self.event.actor)


def describe_events(events):
    """One `HistoryLine` (event, sentence) per event, in the events' order."""
    _discover()
    events = list(events)
    batches = defaultdict(list)
    for event in events:
        describer = _describers.get(event.action)
        if describer is not None and describer.prepare is not None:
            batches[describer.prepare].append(event)
    contexts = {}
    for prepare, batch in batches.items():
        try:
            contexts[prepare] = prepare(batch)
        except Exception:
            logger.exception("Préparation de l'historique impossible (%s)", prepare.__qualname__)
            contexts[prepare] = None
    return [HistoryLine(event, _sentence(event, contexts)) for event in events]


def describe_event(event):
    return describe_events([event])[0].sentence


def _sentence(event, contexts):
    describer = _describers.get(event.action)
    if describer is None:
        return label(event)
    try:
        sentence = describer.describe(event, contexts.get(describer.prepare))
    except Exception:
        logger.exception("Événement d'audit illisible (%s, n° %s)", event.action, event.pk)
        return label(event)
    return sentence or label(event)


def _discover():
    global _discovered
    if not _discovered:
        autodiscover_modules("history")
        _discovered = True


# Helpers for the describers of every app.


def label(event):
    """The action's French label, as a sentence: « Grille remise »."""
    try:
        text = Action(event.action).label
    except ValueError:
        return "Événement inconnu"
    return capitalized(text)


def capitalized(text):
    text = str(text)
    return text[:1].upper() + text[1:]


def lowered(text):
    """« Ouverte à la notation » inside a sentence: « ouverte à la notation »."""
    text = str(text)
    return text[:1].lower() + text[1:]


def shorten(text, length=SHORT):
    """`text` on one line, cut at a word before `length` characters with « … »."""
    text = re.sub(r"\s+", " ", str(text)).strip()
    if len(text) <= length:
        return text
    cut = text[: length - 1]
    if " " in cut[length // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.") + "…"


def quoted(text, length=SHORT):
    """« text », shortened; « vide » when there is nothing."""
    if text is None or str(text).strip() == "":
        return EMPTY
    return f"« {shorten(text, length)} »"


def number(value):
    """12.50 -> « 12,5 »: a decimal number the French way."""
    try:
        value = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return format(value.normalize(), "f").replace(".", ",")


def plural(count, singular, plural_form=None):
    """« 1 candidat », « 12 candidats »."""
    word = singular if abs(int(count)) <= 1 else (plural_form or singular + "s")
    return f"{count} {word}"


def listed(items):
    return ", ".join(str(item) for item in items if item not in (None, ""))


def value_text(value):
    """A value someone changed, in words: quoted text, oui / non, « vide »."""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, (list, tuple)):
        return quoted(listed(value)) if value else EMPTY
    return quoted(value)


def change_text(field, old, new):
    """« lieu « Salle A » → « Salle B » »."""
    return f"{field} {value_text(old)} → {value_text(new)}"


def changes_text(changes):
    """The changes of an edit, either [{"field", "old", "new"}, …] (the field
    already in French) or {field: [old, new]}: « lieu « A » → « B » ; … »."""
    if isinstance(changes, dict):
        changes = [
            {"field": field, "old": pair[0], "new": pair[1]} for field, pair in changes.items()
        ]
    return " ; ".join(
        change_text(change["field"], change.get("old"), change.get("new")) for change in changes
    )


def titled(event, detail, separator=" : "):
    """« Label : detail », or the label alone when there is no detail."""
    return label(event) + (separator + detail if detail else "")


def with_reason(sentence, data):
    reason = str(data.get("reason") or "").strip()
    return f"{sentence}, motif : {shorten(reason, LONG)}" if reason else sentence


def person(user):
    """A user's full name, their username failing that; « système » for no one."""
    return "système" if user is None else display_name(user)


def names_by_username(usernames):
    """{username: full name} in one query, for events that stored usernames."""
    usernames = {name for name in usernames if isinstance(name, str) and name}
    if not usernames:
        return {}
    return {
        user.username: person(user)
        for user in get_user_model()
        .objects.filter(username__in=usernames)
        .only("username", "first_name", "last_name")
    }


# The platform's own actions: accounts of trainers and jury members.


@describes(Action.PERSON_CREATED)
def _person_created(event, context):
    data = event.data
    roles = listed(data.get("roles") or [])
    detail = str(data.get("name") or "") + (f" ({roles})" if roles else "")
    extras = [
        f"organisme : {data['organisation']}" if data.get("organisation") else "",
        f"courriel : {data['email']}" if data.get("email") else "",
    ]
    return titled(event, listed([detail.strip(), *extras]))


@describes(Action.PERSON_CHANGED)
def _person_changed(event, context):
    return with_reason(titled(event, changes_text(event.data.get("changes") or [])), event.data)


@describes(Action.PERSON_INVITED)
def _person_invited(event, context):
    data = event.data
    name = str(data.get("name") or "")
    email = f" ({data['email']})" if data.get("email") else ""
    return f"Invitation envoyée à {name}{email}" if name else label(event) + email


# Accounts edited in the Django admin, and refused sign-ins.


def _roles_text(roles):
    return quoted(listed(roles)) if isinstance(roles, list) and roles else "aucun"


@describes(Action.ACCOUNT_ROLES_CHANGED)
def _account_roles_changed(event, context):
    data = event.data
    change = f"{_roles_text(data.get('old'))} → {_roles_text(data.get('new'))}"
    return titled(event, listed([str(data.get("name") or ""), change]))


@describes(Action.ACCOUNT_DEACTIVATED, Action.ACCOUNT_REACTIVATED)
def _account_activation(event, context):
    return titled(event, str(event.data.get("name") or ""))


@describes(Action.PASSWORD_CHANGED)
def _password_changed(event, context):
    return titled(event, str(event.data.get("name") or ""))


@describes(Action.ACCOUNT_DELETED)
def _account_deleted(event, context):
    data = event.data
    roles = listed(data.get("roles") or [])
    detail = str(data.get("name") or "") + (f" ({roles})" if roles else "")
    extras = [
        f"identifiant : {data['username']}" if data.get("username") else "",
        f"courriel : {data['email']}" if data.get("email") else "",
    ]
    return titled(event, listed([detail.strip(), *extras]))


@describes(Action.LOGIN_FAILED, Action.LOGIN_LOCKED_OUT)
def _login_failed(event, context):
    data = event.data
    detail = listed(
        [
            f"identifiant {quoted(data.get('username'))}",
            f"depuis l'adresse {data['ip']}" if data.get("ip") else "",
        ]
    )
    return titled(event, detail)
