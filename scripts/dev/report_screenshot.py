"""Screenshot of the segment report for the README (docs/report-screenshot.png).

    python -m scripts.dev.report_screenshot           # hand-made sample gold tables
    python -m scripts.dev.report_screenshot --config conf/local.yaml --as-of 2026-11-01
                                                      # the report of a real run

Without --config it writes the sample gold tables of tests/report/sample_gold.py (the
same ones the report tests use, 1,000 customers) into a temporary warehouse, renders
the report and screenshots it in headless Chromium. With --config it (re)writes the
report of that warehouse and as-of (``--set`` overrides apply to it). Run from the
repository root: the sample tables and the browser helpers are the report tests' own. Needs /usr/bin/chromium and, for the Chinese names
to show, a CJK font (Debian: fonts-noto-cjk).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from sparkseg.cli import common_parser, resolve_as_of, start_session
from sparkseg.config import config_from_mapping, load_config
from sparkseg.lakehouse import Lakehouse
from sparkseg.report.build import write_report
from tests.support.browser import check_page, chromium_path, screenshot
from tests.support.sample_gold import AS_OF, write_sample

REPO = Path(__file__).resolve().parents[2]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.dev.report_screenshot",
                                     parents=[common_parser()],
                                     description=__doc__.split("\n\n")[0])
    # No --config: the sample tables (the config file is only read when given).
    parser.set_defaults(config=None)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "report-screenshot.png")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=0,
                        help="pixels from the top (default: the whole page)")
    parser.add_argument("--full-colour", action="store_true",
                        help="keep Chromium's PNG as is (default: 256 colours, smaller)")
    parser.add_argument("--scale", type=int, default=25, help="sample size: 40 customers each")
    args = parser.parse_args(argv)

    chromium = chromium_path()
    if chromium is None:
        print("chromium not found: apt-get install -y chromium fonts-noto-cjk", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="sparkseg-report-") as tmp:
        if args.config:
            cfg = load_config(args.config, args.overrides)
            as_of = resolve_as_of(args, cfg)
        else:
            cfg = config_from_mapping(
                {"warehouse": f"{tmp}/lake", "engine": "offline",
                 "spark": {"master": "local[2]", "shuffle_partitions": 4,
                           "show_progress": False, "log_level": "ERROR"}},
                source="<screenshot>",
            )
            as_of = AS_OF
        spark = start_session(cfg)
        try:
            if not args.config:
                write_sample(Lakehouse(spark, cfg), scale=args.scale)
            report = Path(write_report(spark, cfg, as_of))
        finally:
            spark.stop()
        page = check_page(chromium, report, width=args.width)
        if page.errors or page.console or page.charts_ok != page.charts:
            print(f"page problems: errors={page.errors} console={page.console} "
                  f"bad charts={page.charts_bad!r}", file=sys.stderr)
            return 1
        height = args.height or page.page_height
        screenshot(chromium, report, args.out, width=args.width, height=height)
    if not args.full_colour:
        from PIL import Image

        # 256 colours keep text and charts crisp at a third of the file size (README image).
        with Image.open(args.out) as image:
            small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        small.save(args.out, optimize=True)
    print(f"{args.out} ({args.width}x{height}, {page.charts} charts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
