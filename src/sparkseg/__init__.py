"""sparkseg: customer-segmentation engine for retail banks on Spark and Delta Lake.

Importing this package starts nothing: Spark sessions are created only by the
command line (:mod:`sparkseg.cli`), the jobs in ``jobs/`` and the tests.
"""

__version__ = "0.1.0"
