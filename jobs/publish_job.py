"""spark-submit entry point: `sparkseg publish` (same flags, same exit codes).

    spark-submit --py-files dist/sparkseg.zip --files conf/cluster.yaml,conf/tags.yaml,... \
        jobs/publish_job.py --config cluster.yaml --as-of 2026-11-01
"""

import sys

from sparkseg.cli import main

if __name__ == "__main__":
    sys.exit(main(["publish", *sys.argv[1:]]))
