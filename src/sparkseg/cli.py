"""The ``sparkseg`` command line: the orchestrator contract (README "Command line").

    sparkseg generate --customers N [--seed S] [--months M]
    sparkseg generate --append-days N [--seed S]   # daily increments after the raw data
    sparkseg ingest | identity | features | train | score | profile | tags | lifecycle
    sparkseg audiences
    sparkseg plan         # the contact plan of the strategies (after run)
    sparkseg evaluate     # funnel and uplift of the strategies launched on the as-of
    sparkseg run          # all stages in order, publish, then the report
    sparkseg publish      # record the as-of as complete (after stages run one by one)
    sparkseg report
    sparkseg retain [--keep-days N]   # drop as-of partitions older than the retention
    sparkseg vacuum [--retention-hours H] [--dry-run]
    common flags: --config conf/local.yaml --as-of YYYY-MM-DD --set key.path=value

Failures print one line on stderr (``sparkseg: error: ...``) and exit with the code of
:mod:`sparkseg.errors`; a Java stack trace is never the only message.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from sparkseg.config import Config, load_config
from sparkseg.errors import ConfigError, SparksegError
from sparkseg.pipeline import STAGES

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger("sparkseg")

EXIT_INTERNAL = 1


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def common_parser() -> argparse.ArgumentParser:
    """The flags every command shares (``--config``, ``--as-of``, ``--set``, ``-v``), as an
    argparse parent (``parents=[common_parser()]``); the bench and evaluation scripts use it."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default="conf/local.yaml", help="YAML config file")
    common.add_argument("--as-of", type=_date, help="as-of date YYYY-MM-DD (default: config as_of, else today)")
    common.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
        help="override one config value (repeatable)",
    )
    common.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = common_parser()
    parser = argparse.ArgumentParser(prog="sparkseg", description="Customer segmentation on Spark")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    gen = sub.add_parser("generate", parents=[common], help="write synthetic raw tables")
    gen.add_argument("--customers", type=int)
    gen.add_argument("--seed", type=int)
    gen.add_argument("--months", type=int)
    gen.add_argument(
        "--append-days", type=int, metavar="N",
        help="append N days after the last day the existing raw tables cover (one Delta "
             "commit per table and day) instead of rewriting them",
    )
    for name in STAGES:
        sub.add_parser(name, parents=[common], help=f"run the {name} stage")
    run = sub.add_parser("run", parents=[common], help="run every stage in order, then the report")
    run.add_argument("--no-report", action="store_true", help="skip the HTML report")
    sub.add_parser(
        "publish", parents=[common],
        help="record the as-of as complete in ops/completions (every stage must have completed)",
    )
    sub.add_parser("report", parents=[common], help="write the HTML report of one as-of date")
    sub.add_parser(
        "plan", parents=[common],
        help="write gold/contact_plan: the strategies' touches due on the as-of (after run)",
    )
    sub.add_parser(
        "evaluate", parents=[common],
        help="funnel and uplift of the strategies launched on the as-of, once its window closed",
    )
    ret = sub.add_parser(
        "retain", parents=[common],
        help="drop gold and silver/customer_features partitions older than the retention",
    )
    ret.add_argument("--keep-days", type=int, metavar="N",
                     help="keep as_of_date >= as-of - N (overrides retention.keep_days)")
    vac = sub.add_parser("vacuum", parents=[common], help="remove data files no table version needs")
    vac.add_argument("--retention-hours", type=float, default=168.0)
    vac.add_argument("--dry-run", action="store_true")
    for name in ("ingest", "run"):
        sub.choices[name].add_argument(
            "--full-refresh", action="store_true",
            help="rebuild silver from the whole raw tables (ingest.full_refresh=true)")
    aud = sub.choices["audiences"]
    aud.add_argument("--dry-run", action="store_true", help="print audience sizes, write nothing")
    return parser


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s sparkseg %(levelname)s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    for noisy in ("py4j", "py4j.clientserver", "py4j.java_gateway"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def _overrides(args: argparse.Namespace) -> list[str]:
    extra = list(args.overrides)
    if getattr(args, "full_refresh", False):
        extra.append("ingest.full_refresh=true")
    if args.command == "generate":
        if args.append_days is not None and args.append_days < 1:  # before Spark starts
            raise ConfigError(f"--append-days must be at least 1, got {args.append_days}")
        for key in ("customers", "seed", "months"):
            value = getattr(args, key)
            if value is not None:
                extra.append(f"generate.{key}={value}")
    if args.command == "retain" and args.keep_days is not None:
        extra.append(f"retention.keep_days={args.keep_days}")
    return extra


def resolve_as_of(args: argparse.Namespace, cfg: Config) -> dt.date:
    """``--as-of``, else the config's ``as_of``, else today (UTC)."""
    if args.as_of is not None:
        as_of: dt.date = args.as_of
        return as_of
    return cfg.as_of or dt.datetime.now(dt.UTC).date()


def start_session(cfg: Config) -> SparkSession:
    """The Spark session of ``cfg``, with delta-spark loaded for the ``spark`` engine."""
    from sparkseg.session import build_session

    return build_session(cfg.spark, delta=cfg.engine == "spark")


def _dispatch(args: argparse.Namespace, cfg: Config) -> None:
    from sparkseg import pipeline

    as_of = resolve_as_of(args, cfg)
    if args.command == "retain":
        from sparkseg.retention.stage import cutoff_of

        if cfg.retention.keep_days is None:
            print("retain: retention.keep_days is not set and no --keep-days given: "
                  "nothing dropped")
            return
        cutoff_of(cfg, as_of)  # an unsafe retention stops here, before Spark starts
    spark = start_session(cfg)
    try:
        handlers: dict[str, Callable[[], object]] = {
            "generate": lambda: _generate(spark, cfg, as_of, args.append_days),
            "run": lambda: _run_all(spark, cfg, as_of, report=not args.no_report),
            "report": lambda: _report(spark, cfg, as_of),
            "publish": lambda: _publish(spark, cfg, as_of),
            "plan": lambda: _plan(spark, cfg, as_of),
            "evaluate": lambda: _evaluate(spark, cfg, as_of),
            "retain": lambda: _retain(spark, cfg, as_of),
            "vacuum": lambda: _vacuum(spark, cfg, args.retention_hours, args.dry_run),
        }
        if args.command == "audiences" and args.dry_run:
            from sparkseg.audiences.stage import dry_run

            dry_run(spark, cfg, as_of)
        elif args.command in handlers:
            handlers[args.command]()
        else:
            pipeline.run_stage(spark, cfg, args.command, as_of)
    finally:
        spark.stop()


def _generate(spark: SparkSession, cfg: Config, as_of: dt.date, append_days: int | None) -> None:
    from sparkseg import pipeline
    from sparkseg.generate.stage import run as generate_run

    if append_days is None:
        pipeline.run_stage(spark, cfg, "generate", as_of, fn=generate_run)
        print(f"raw tables written under {cfg.warehouse}/raw")
        return
    from sparkseg.generate.append import run_append

    pipeline.run_stage(spark, cfg, "generate", as_of,
                       fn=lambda s, c, a: run_append(s, c, a, append_days))
    print(f"{append_days} day(s) appended to the raw tables under {cfg.warehouse}/raw")


def _run_all(spark: SparkSession, cfg: Config, as_of: dt.date, *, report: bool) -> None:
    from sparkseg import pipeline

    pipeline.run_all(spark, cfg, as_of)
    print(f"outputs under {cfg.warehouse}/silver, {cfg.warehouse}/gold, {cfg.warehouse}/ops")
    if report and cfg.report.enabled:
        _report(spark, cfg, as_of)


def _publish(spark: SparkSession, cfg: Config, as_of: dt.date) -> None:
    from sparkseg.completions import publish

    done = publish(spark, cfg, as_of)
    print(f"as-of {as_of} complete: pipeline run {done.run_id}")


def _plan(spark: SparkSession, cfg: Config, as_of: dt.date) -> None:
    from sparkseg import pipeline
    from sparkseg.strategies.stage import run as plan_run

    pipeline.run_stage(spark, cfg, "plan", as_of, fn=plan_run)
    print(f"contact plan of {as_of} written to {cfg.warehouse}/gold/contact_plan")


def _evaluate(spark: SparkSession, cfg: Config, as_of: dt.date) -> None:
    from sparkseg import pipeline
    from sparkseg.strategies.evaluate import run as evaluate_run

    pipeline.run_stage(spark, cfg, "evaluate", as_of, fn=evaluate_run)
    print(f"strategies launched on {as_of} evaluated: {cfg.warehouse}/gold/strategy_funnel, "
          f"{cfg.warehouse}/gold/strategy_evaluation")


def _report(spark: SparkSession, cfg: Config, as_of: dt.date) -> None:
    from sparkseg.report.build import write_report

    path = write_report(spark, cfg, as_of)
    print(path)


def _retain(spark: SparkSession, cfg: Config, as_of: dt.date) -> None:
    from sparkseg import pipeline
    from sparkseg.retention.stage import Retained, cutoff_of, retain, summary

    cutoff = cutoff_of(cfg, as_of)
    results: list[Retained] = []
    pipeline.run_stage(spark, cfg, "retain", as_of,
                       fn=lambda s, c, d: results.extend(retain(s, c, d)))
    print(summary(results, cutoff))


def _vacuum(spark: SparkSession, cfg: Config, retention_hours: float, dry_run: bool) -> None:
    from sparkseg.lakehouse.vacuum import vacuum_warehouse

    removed = vacuum_warehouse(spark, cfg, retention_hours=retention_hours, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    print(f"{verb} {len(removed)} unreferenced file(s)")


def _java_summary(err: BaseException) -> str:
    """One line for a py4j/Spark failure: the innermost Java message, no stack."""
    text = str(err)
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("at ", "...", "An error occurred", "Traceback")):
            return line[:400]
    return type(err).__name__


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    try:
        cfg = load_config(args.config, _overrides(args))
        _dispatch(args, cfg)
    except SparksegError as err:
        print(f"sparkseg: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("sparkseg: error: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # a bug or an unexpected Spark/IO failure
        log.debug("internal error", exc_info=True)
        print(
            f"sparkseg: error: internal error in {args.command}: {type(err).__name__}: "
            f"{_java_summary(err)} (rerun with -v for the trace)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

