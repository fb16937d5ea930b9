"""Evaluation metrics.

mixture            PacGAN mode coverage on Gaussian mixtures (modes, high quality, reverse KL)
frechet            Frechet distance between Gaussians fitted to features (FD; FID on Inception)
precision_recall   improved precision and recall with k-NN manifolds
                   (a module: gan_jax.metrics.precision_recall.precision_recall)
coverage           class coverage: KL of the predicted-class histogram from uniform
features           the library's seeded Fashion-MNIST feature network
inception          Inception-v3 features and logits from a user-supplied weights file
kernel_distance    KID: the unbiased squared MMD under a cubic polynomial kernel
inception_score    Inception Score from Inception-v3's class logits
"""

from gan_jax.metrics.coverage import class_kl
from gan_jax.metrics.frechet import frechet_distance, frechet_distance_from_features
from gan_jax.metrics.mixture import MixtureMetrics, evaluate_mixture, mixture_metrics

__all__ = [
  "MixtureMetrics",
  "evaluate_mixture",
  "mixture_metrics",
  "frechet_distance",
  "frechet_distance_from_features",
  "class_kl",
]
