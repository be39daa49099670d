"""Evaluation on generated data: how well the outputs recover the planted truth.

    python -m scripts.eval.segment_ari --set warehouse=/data/lake --as-of 2026-11-01
    python -m scripts.eval.habit_agreement --as-of 2026-11-01
"""
