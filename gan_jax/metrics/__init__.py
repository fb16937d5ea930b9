"""Evaluation metrics: mixture mode coverage, Frechet distance, precision/recall, class coverage."""

from gan_jax.metrics.mixture import MixtureMetrics, evaluate_mixture, mixture_metrics

__all__ = ["MixtureMetrics", "evaluate_mixture", "mixture_metrics"]
