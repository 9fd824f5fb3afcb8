#!/bin/sh
# manage.py avec l'environnement de production, pour les commandes
# d'administration (README, « Mise en production ») :
#   sudo -u certification /srv/certification/app/deploy/manage.sh migrate
# Le fichier d'environnement est celui des services systemd
# (CERTIFICATION_ENV pour en désigner un autre).
set -eu
cd "$(dirname "$0")/.."
set -a
. "${CERTIFICATION_ENV:-/etc/certification/certification.env}"
set +a
exec .venv/bin/python manage.py "$@"
