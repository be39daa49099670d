"""spark-submit entry point: `sparkseg lifecycle` (same flags, same exit codes).

    spark-submit --py-files dist/sparkseg.zip --files conf/cluster.yaml,... \
        jobs/lifecycle_job.py --config cluster.yaml --as-of 2026-11-01
"""

import sys

from sparkseg.cli import main

if __name__ == "__main__":
    sys.exit(main(["lifecycle", *sys.argv[1:]]))
