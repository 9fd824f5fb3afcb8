"""A frozen version's structure, read once per process.

Once a version leaves the draft its structure (grading levels, blocs,
competences, criteria, modalities) can no longer change
(CertificationVersion.ensure_editable), so what a process has read of it stays
true: the pages opened hundreds of times on an exam day need not read it
again. A draft is always read afresh.
"""

_remembered = {}


def remembered(version, what, read):
    """`read()`, kept for the life of the process when `version` is frozen.

    The result is shared by every request of the process: callers read it and
    never change it (hence tuples). The version's creation time is part of the
    key, so a database rebuilt under a running process (same ids, another
    referential) is read again."""
    if not version.is_frozen:
        return read()
    key = (version.pk, version.created_at, what)
    try:
        return _remembered[key]
    except KeyError:
        return _remembered.setdefault(key, read())


def forget():
    """Tests: each test builds its own referential, possibly under the same ids."""
    _remembered.clear()
