"""spark-submit entry point: `sparkseg profile` (same flags, same exit codes).

Job files are named <stage>_job.py: a script named like a standard-library module
(profile.py) would shadow it, because spark-submit puts the script folder first on sys.path.

    spark-submit --py-files dist/sparkseg.zip --files conf/cluster.yaml,conf/tags.yaml,... \
        jobs/profile_job.py --config cluster.yaml --as-of 2026-11-01
"""

import sys

from sparkseg.cli import main

if __name__ == "__main__":
    sys.exit(main(["profile", *sys.argv[1:]]))
