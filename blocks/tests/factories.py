"""Referentials for tests, loaded through the service."""

import copy
import json

from blocks.export import SHIPPED_FILE
from blocks.services import load_referential


def shipped_data():
    return json.loads(SHIPPED_FILE.read_text(encoding="utf-8"))


def grown_referential(label, *, status="active"):
    """The shipped referential grown in every dimension a page can show: two
    more grading levels, two more blocs, and in every bloc one more activity
    with three more competences of four criteria each, assessed by two more
    modalities. Loaded as version `label` of the same certification."""
    data = shipped_data()
    data["certification"]["version"] = label
    data["certification"]["status"] = status
    data["certification"]["grading_scale"]["levels"] += [
        {"value": 4, "label": "Expert", "passing": True},
        {"value": 5, "label": "Référent", "passing": True},
    ]
    for number in (5, 6):
        extra = copy.deepcopy(data["blocs"][2])
        extra["number"] = number
        extra["title"] = f"Bloc ajouté {number}"
        rename = {f"{kind}3.": f"{kind}{number}." for kind in "ACM"}
        text = json.dumps(extra, ensure_ascii=False)
        for old, new in rename.items():
            text = text.replace(f'"{old}', f'"{new}')
        data["blocs"].append(json.loads(text))
    for bloc in data["blocs"]:
        number = bloc["number"]
        activity = f"A{number}.9"
        bloc["activities"].append(
            {"code": activity, "title": f"Activité ajoutée {number}", "tasks": ["t"], "note": ""}
        )
        added = [f"C{number}.9{n}" for n in range(1, 4)]
        for code in added:
            bloc["competences"].append(
                {
                    "code": code,
                    "activity": activity,
                    "statement": f"Compétence ajoutée {code}",
                    "note": "",
                    "criteria": [{"label": f"Critère {code}-{n}", "note": ""} for n in range(4)],
                }
            )
        for n, competences in ((8, added[:2]), (9, added)):
            bloc["modalities"].append(
                {
                    "code": f"M{number}.{n}",
                    "kind": "etude_de_cas",
                    "title": f"Modalité ajoutée {number}.{n}",
                    "instructions": "Consignes de la modalité ajoutée.",
                    "assessed_by": "trainers",
                    "group_work": False,
                    "note": "",
                    "competences": competences,
                }
            )
    return load_referential(json.dumps(data)).version
