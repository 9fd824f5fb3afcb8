"""Import of a promotion's candidates from a spreadsheet: all or nothing.

Reading and checking a file happen here and write nothing: ``plan_import``
answers what importing it would do, or why it cannot. Applying a plan is a
state change, in ``candidates.services.apply_import``.

- ``columns``: the columns of the file, how headers and values are recognised;
- ``readers``: the bytes of a .csv or .xlsx file as lines of cells;
- ``rows``: the checks of one row, then of the rows together (duplicates);
- ``plan``: matching the rows with existing candidates, and the plan.

The file format, as the README gives it to the office:

Format du fichier d'import d'une promotion
------------------------------------------

* Un fichier ``.csv`` en UTF-8 (avec ou sans BOM) ou en Windows-1252 (l'export
  « CSV (séparateur : point-virgule) » d'Excel), séparé par ``;`` ou ``,``
  (celui que la ligne d'en-tête emploie le plus) ; ou un classeur ``.xlsx``,
  dont seule la première feuille est lue. Toute autre extension est refusée.
* La première ligne non vide est l'en-tête. Les noms de colonnes se comparent
  sans tenir compte de la casse, des accents, des espaces, tirets, soulignés,
  apostrophes et points, ni des petits mots « de », « du », « d' », « la »,
  « le », « l' », « des » : « Nom de naissance », « NOM_NAISSANCE » et
  « nom-naissance » désignent la même colonne. Les autres colonnes sont
  ignorées, les lignes vides aussi.

  ====================  ===========  ===========================================
  colonne               obligatoire  autres en-têtes acceptés, valeurs
  ====================  ===========  ===========================================
  nom_naissance         oui          nom de famille, birth_name
  nom_usage                          nom marital, usage_name
  prenoms               oui          prénom, first_names — tous les prénoms
  sexe                  oui          sex — F ou M (ou Féminin, Masculin)
  date_naissance        oui          birth_date — JJ/MM/AAAA ou AAAA-MM-JJ (ou
                                     une cellule date dans un .xlsx)
  commune_naissance                  lieu de naissance, ville de naissance
  code_insee_naissance               code INSEE, code INSEE de la commune de
                                     naissance, INSEE — 5 caractères (75056,
                                     2A004)
  pays_naissance                     pays de naissance
  email                              courriel, adresse électronique, adresse
                                     e-mail, mail
  telephone                          tél, téléphone portable, portable, phone
  voie_acces            oui          voie d'accès, voie, access_route — le code
                                     (formation_initiale, apprentissage,
                                     formation_continue,
                                     contrat_professionnalisation, vae,
                                     equivalence_diplome_etranger,
                                     candidat_libre) ou le libellé (« Contrat
                                     de professionnalisation »…)
  blocs_optionnels                   bloc optionnel, options — numéros de blocs
                                     optionnels de la certification, séparés
                                     par des virgules ou des espaces (« 4 »)
  type_vae                           VAE, vae_route — conge_vae ou
                                     vae_classique (ou le libellé), pour la
                                     VAE seulement ; vide, l'office le
                                     précise ensuite sur la fiche du candidat
  initiative_inscription             initiative, à l'initiative de,
                                     registration_initiative — candidat,
                                     organisme, france_travail, employeur,
                                     autre (ou le libellé)
  date_inscription                   date d'inscription à la certification,
                                     registration_date — JJ/MM/AAAA ou
                                     AAAA-MM-JJ
  ====================  ===========  ===========================================

* Né(e) en France : ``code_insee_naissance`` renseigné et ``pays_naissance``
  vide (ou « France »). Né(e) à l'étranger : ``pays_naissance`` renseigné, sans
  code INSEE.
* Dans un ``.xlsx``, un code INSEE ou un téléphone saisi comme nombre retrouve
  le zéro initial qu'Excel a retiré (1053 → 01053, 612345678 → 0612345678).
* Une ligne dont le nom de naissance, les prénoms et la date de naissance
  désignent un candidat existant (casse, accents et espaces mis à part) inscrit
  ce candidat : sa fiche n'est jamais modifiée. Réimporter le même fichier ne
  crée donc rien. Une adresse électronique déjà utilisée par un autre candidat
  est refusée, comme un doublon dans le fichier (même identité ou même
  adresse).
* Une seule ligne en erreur fait refuser tout le fichier, sans rien écrire ;
  chaque problème est signalé avec son numéro de ligne (l'en-tête est la
  ligne 1) ; au-delà de 100 problèmes, seul leur nombre est donné.
* Limites : 5 000 lignes de candidats, 20 000 lignes lues (vides comprises),
  50 colonnes remplies, 50 Mo pour un ``.xlsx`` décompressé (``readers``). Un
  fichier UTF-8 contenant un octet d'un autre encodage est refusé à sa ligne ;
  un caractère nul fait refuser le fichier.
"""

from pathlib import Path

from .columns import COLUMN_BY_HEADER, COLUMNS
from .plan import ImportRefused, plan_import
from .rows import RowProblem

# A promotion of 12 fictional candidates in this format, shipped as an example.
SAMPLE_FILE = Path(__file__).resolve().parent.parent / "data" / "exemple-promotion.csv"

__all__ = [
    "COLUMNS",
    "COLUMN_BY_HEADER",
    "SAMPLE_FILE",
    "ImportRefused",
    "RowProblem",
    "plan_import",
]
