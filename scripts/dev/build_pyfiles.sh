#!/usr/bin/env bash
# Build dist/sparkseg.zip: the sparkseg package for spark-submit --py-files.
# The driver's Python still needs the dependencies (pydantic, pyyaml, deltalake, numpy):
# install them there, or ship a packed virtual environment with --archives.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p dist
rm -f dist/sparkseg.zip
(cd src && python -m zipfile -c ../dist/sparkseg.zip sparkseg)
echo "dist/sparkseg.zip"
