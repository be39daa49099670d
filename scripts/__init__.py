"""Tools around sparkseg, run from the repository root with ``python -m``; not part of the
installed package and never imported by it.

- :mod:`scripts.bench`: timings (``python -m scripts.bench MODE ...``; ``--help`` lists modes)
- :mod:`scripts.eval`: agreement of the outputs with the planted truth of generated data
- :mod:`scripts.dev`: the README screenshot and the ``--py-files`` zip

The flags they share with the ``sparkseg`` command (``--config``, ``--as-of``, ``--set``,
``-v``) and the Spark session start come from :mod:`sparkseg.cli`.
"""
