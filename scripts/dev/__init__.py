"""Developer tools: the README screenshot of the report and the ``--py-files`` zip.

    python -m scripts.dev.report_screenshot --height 3150
    scripts/dev/build_pyfiles.sh
"""
