"""spark-submit entry point for the whole pipeline: `sparkseg run` (same flags and exit codes).

    spark-submit --py-files dist/sparkseg.zip --files conf/cluster.yaml,conf/tags.yaml,... \
        jobs/run_pipeline.py --config cluster.yaml --as-of 2026-11-01
"""

import sys

from sparkseg.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))
