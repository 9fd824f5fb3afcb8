"""How the audit events of sessions, grids, juries and deliberations read in
the histories (see core.history).

    Note modifiée : C1.4 « sa capacité à rédiger avec clarté et précision une
    feuille… » Acquis → Maîtrisé, motif : erreur de saisie

Scores are stored as numbers on the certification version's scale: they read
as the scale's level (« Maîtrisé ») or as a mark out of the maximum
(« 12,5 / 20 »), the criterion by its competence and label. Those rows are
fetched once for every score event of the page."""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.dateparse import parse_date

from blocks.models import Criterion, GradingLevel
from core.history import (
    LONG,
    changes_text,
    describes,
    label,
    listed,
    lowered,
    names_by_username,
    number,
    plainly,
    plural,
    quoted,
    titled,
    with_reason,
)
from core.models import Action

from .models import BlocDecision, ExamSession, JuryMember

plainly(
    Action.JURY_CREATED,
    Action.INDEPENDENCE_DECLARED,
    Action.GRID_SUBMITTED,
    Action.MINUTES_SIGNED,
    Action.DELIBERATION_CLOSED,
    Action.RESULTS_PUBLISHED,
)


# Scores: the criterion and the scale.


@dataclass
class Scales:
    """The criteria the page's score events name, and their versions' levels."""

    criteria: dict = field(default_factory=dict)
    levels: dict = field(default_factory=dict)  # (version id, value) -> label

    def criterion(self, data):
        try:
            return self.criteria.get(int(data.get("criterion")))
        except (TypeError, ValueError):
            return None

    def subject(self, data):
        """« C1.4 « sa capacité à rédiger… » », what the score is about."""
        criterion = self.criterion(data)
        code = criterion.competence.code if criterion else data.get("competence")
        text = criterion.label if criterion else data.get("criterion_label")
        subject = code or "critère"
        return f"{subject} {quoted(text)}" if text else subject

    def value(self, data, raw):
        """A stored value in the scale's words: « Maîtrisé », « 12,5 / 20 »."""
        try:
            value = Decimal(str(raw))
        except (InvalidOperation, ValueError):
            return quoted(raw)
        criterion = self.criterion(data)
        version = criterion.competence.bloc.certification_version if criterion else None
        if version is None:
            return number(value)
        if version.is_numeric_scale:
            return f"{number(value)} / {version.numeric_max}"
        return self.levels.get((version.pk, value)) or number(value)

    def mean(self, data, raw):
        criterion = self.criterion(data)
        version = criterion.competence.bloc.certification_version if criterion else None
        if version is not None and version.is_numeric_scale:
            return self.value(data, raw)
        return number(raw)


def _scales(events):
    ids = set()
    for event in events:
        try:
            ids.add(int(event.data.get("criterion")))
        except (TypeError, ValueError):
            continue
    if not ids:
        return Scales()
    located = Criterion.objects.select_related("competence__bloc__certification_version")
    criteria = located.in_bulk(ids)
    versions = {
        criterion.competence.bloc.certification_version_id for criterion in criteria.values()
    }
    levels = {
        (level.certification_version_id, Decimal(level.value)): level.label
        for level in GradingLevel.objects.filter(certification_version_id__in=versions)
    }
    return Scales(criteria, levels)


def _comment(data):
    """The comment's change, or None: (old, new), both stripped."""
    if "old_comment" not in data and "new_comment" not in data:
        return None
    old = str(data.get("old_comment") or "").strip()
    new = str(data.get("new_comment") or "").strip()
    return (old, new) if old != new else None


@describes(Action.SCORE_CHANGED, prepare=_scales)
def _score_changed(event, context):
    data, scales = event.data, context or Scales()
    subject = scales.subject(data)
    old, new = data.get("old"), data.get("new")
    comment = _comment(data)
    if old == new:
        if comment is None:
            sentence = f"Note modifiée : {subject}"
        elif not comment[0]:
            sentence = f"Commentaire ajouté sur {subject} : {quoted(comment[1], LONG)}"
        elif not comment[1]:
            sentence = f"Commentaire effacé sur {subject}"
        else:
            sentence = (
                f"Commentaire modifié sur {subject} : "
                f"{quoted(comment[0], LONG)} → {quoted(comment[1], LONG)}"
            )
        return with_reason(sentence, data)
    if old is None:
        sentence = f"Note saisie : {subject} {scales.value(data, new)}"
    elif new is None:
        sentence = f"Note effacée : {subject} (était {scales.value(data, old)})"
    else:
        sentence = (
            f"Note modifiée : {subject} {scales.value(data, old)} → {scales.value(data, new)}"
        )
    if comment is not None:
        if not comment[0]:
            sentence += f", commentaire : {quoted(comment[1], LONG)}"
        elif not comment[1]:
            sentence += ", commentaire effacé"
        else:
            sentence += f", commentaire {quoted(comment[0], LONG)} → {quoted(comment[1], LONG)}"
    return with_reason(sentence, data)


@describes(Action.AGREED_SCORE_RECORDED, prepare=_scales)
def _agreed_score(event, context):
    data, scales = event.data, context or Scales()
    old, new = data.get("old"), data.get("new")
    if new is None:
        values = "sans note"
    elif old is None or old == new:
        values = scales.value(data, new)
    else:
        values = f"{scales.value(data, old)} → {scales.value(data, new)}"
    sentence = f"{label(event)} : {scales.subject(data)} {values}"
    if data.get("mean") is not None:
        sentence += f" (moyenne des évaluateurs : {scales.mean(data, data['mean'])})"
    return with_reason(sentence, data)


@describes(Action.GRID_COMMENT_CHANGED)
def _grid_comment(event, context):
    data = event.data
    old = str(data.get("old") or "").strip()
    new = str(data.get("new") or "").strip()
    if not old:
        sentence = f"Commentaire général ajouté : {quoted(new, LONG)}"
    elif not new:
        sentence = "Commentaire général effacé"
    else:
        sentence = f"Commentaire général modifié : {quoted(old, LONG)} → {quoted(new, LONG)}"
    return with_reason(sentence, data)


# Sessions and assessments.


def _status(code):
    try:
        return lowered(ExamSession.Status(code).label)
    except ValueError:
        return quoted(code)


@describes(Action.SESSION_STATUS_CHANGED)
def _session_status(event, context):
    data = event.data
    return f"Statut de la session : {_status(data.get('old'))} → {_status(data.get('new'))}"


@describes(Action.PRESENCE_CHANGED)
def _presence(event, context):
    present = event.data.get("present")
    if not isinstance(present, bool):
        return label(event)
    return "Présence : noté(e) présent(e)" if present else "Présence : noté(e) absent(e)"


def _people(events):
    """Full names of the people older events name by their username."""
    usernames = []
    for event in events:
        if event.action == Action.SESSION_CREATED and not event.data.get("assessor_names"):
            usernames += event.data.get("assessors") or []
        elif event.action == Action.JURY_MEMBER_ADDED:
            usernames.append(event.data.get("member"))
    return names_by_username(usernames)


@describes(Action.SESSION_CREATED, prepare=_people)
def _session_created(event, context):
    names = event.data.get("assessor_names") or [
        (context or {}).get(username, username) for username in event.data.get("assessors") or []
    ]
    if not names:
        return label(event)
    return f"{label(event)}, {'évaluateurs' if len(names) > 1 else 'évaluateur'} : {listed(names)}"


@describes(Action.SESSION_CHANGED, Action.JURY_CHANGED)
def _changed(event, context):
    return with_reason(titled(event, changes_text(event.data.get("changes") or [])), event.data)


@describes(Action.SESSION_CANCELLED)
def _session_cancelled(event, context):
    sentence = label(event)
    count = event.data.get("candidates")
    if isinstance(count, int):
        sentence += ", " + plural(count, "candidat concerné", "candidats concernés")
    return with_reason(sentence, event.data)


@describes(Action.ASSESSOR_REPLACED)
def _assessor_replaced(event, context):
    data = event.data
    sentence = titled(event, _replacement(data))
    kept = data.get("drafts_kept")
    if isinstance(kept, int):
        sentence += ", " + (
            plural(kept, "grille en brouillon conservée", "grilles en brouillon conservées")
            if kept
            else "aucune grille en brouillon à reprendre"
        )
    return with_reason(sentence, data)


def _replacement(data):
    replaced, replacement = data.get("replaced"), data.get("replacement")
    if replaced and replacement:
        return f"{replaced} par {replacement}"
    return replaced or replacement or ""


# Juries.


def _role(value):
    if not value:
        return ""
    try:
        return lowered(JuryMember.Role(value).label)
    except ValueError:
        return lowered(value)


@describes(Action.JURY_MEMBER_ADDED, prepare=_people)
def _member_added(event, context):
    data = event.data
    member = data.get("member")
    name = (context or {}).get(member, member) if member else ""
    external = data.get("external")
    qualities = listed(
        [
            _role(data.get("role")),
            ("externe" if external else "interne au centre") if isinstance(external, bool) else "",
        ]
    )
    return with_reason(titled(event, listed([name, qualities])), data)


@describes(Action.JURY_MEMBER_REPLACED)
def _member_replaced(event, context):
    data = event.data
    role = _role(data.get("role"))
    detail = _replacement(data) + (f" ({role})" if role else "")
    return with_reason(titled(event, detail), data)


@describes(Action.JURY_MEMBER_REMOVED)
def _member_removed(event, context):
    data = event.data
    role = _role(data.get("role"))
    detail = str(data.get("member") or "") + (f" ({role})" if role else "")
    return with_reason(titled(event, detail), data)


@describes(Action.RECUSAL_RECORDED)
def _recusal(event, context):
    data = event.data
    member, candidate = data.get("member"), data.get("candidate")
    if member and candidate:
        sentence = f"Déport : {member} ne délibère pas pour {candidate}"
    else:
        sentence = titled(event, member or candidate or "")
    return with_reason(sentence, data)


# Deliberations.


def _decision(code):
    try:
        return lowered(BlocDecision.Decision(code).label)
    except ValueError:
        return quoted(code)


@describes(Action.DELIBERATION_OPENED)
def _deliberation_opened(event, context):
    data = event.data
    held_on = parse_date(str(data.get("held_on") or "")[:10])
    blocs = data.get("added_blocs") or []
    detail = [
        f"réunion du jury le {held_on:%d/%m/%Y}" if held_on else "",
        (
            ("blocs ajoutés par le bureau : " if len(blocs) > 1 else "bloc ajouté par le bureau : ")
            + listed(blocs)
            if blocs
            else ""
        ),
    ]
    return titled(event, listed(detail), separator=", ")


@describes(Action.DECISION_RECORDED)
def _decision_recorded(event, context):
    data = event.data
    new = data.get("new") or [None, ""]
    old = data.get("old")
    decision = _decision(new[0])
    if old and old[0] != new[0]:
        decision = f"{_decision(old[0])} → {decision}"
    candidate = data.get("candidate") or "candidat"
    sentence = f"Décision du jury : {candidate}, bloc {data['bloc']} {decision}"
    proposed = data.get("proposed_validated")
    if isinstance(proposed, bool):
        sentence += f" (proposition : {'validé' if proposed else 'non validé'})"
    justification = str(new[1] if len(new) > 1 else "").strip()
    if justification:
        sentence += f", justification : {quoted(justification, LONG)}"
    return sentence


@describes(Action.RECTIFICATION_OPENED)
def _rectification(event, context):
    return with_reason(label(event), event.data)
