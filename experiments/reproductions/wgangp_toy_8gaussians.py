"""WGAN-GP's toy experiment (Gulrajani et al. 2017) on 8 Gaussians, as gan_toy.py runs it.

Published figures to compare with: none. The paper shows its toy datasets only as pictures
(Figure 1: critic value surfaces with weight clipping and with the gradient penalty, the
generator there held fixed at real data plus Gaussian noise, gan_toy.py:21-22
FIXED_GENERATOR "as in the plots in the paper"). gan_toy.py trains the generator by default
(FIXED_GENERATOR = False), and so does this config; the library's mixture metrics (modes,
high-quality fraction within 3 std, reverse KL) count at this data's scale.

Where each setting comes from: igul222/improved_wgan_training gan_toy.py (commit 3c8ba3c2),
MODE = 'wgan-gp' (line 18), DATASET = '8gaussians' (line 19).
- data: ring8 with radius 2 / 1.414 and std 0.02 / 1.414: lines 202-226 (scale = 2., the 8
  centers (+-1, 0), (0, +-1), (+-1/sqrt 2, +-1/sqrt 2) times scale, np.random.randn(2) * .02
  around a random center, then dataset /= 1.414); the same 8 angles as the library's ring.
  A fresh batch every critic step (the generator yields a new batch each time).
- model.latent_dim 2, normal: line 46 (noise = tf.random_normal([n_samples, 2])).
- generator and critic: 3 hidden ReLU layers of DIM = 512, linear output (2 for G, 1 for the
  critic): lines 20 (DIM = 512), 31-40 (ReLULayer), 42-58 (Generator, Discriminator).
- weight_init 'tflib': hidden layers initialization='he' (line 37), output layers tflib's
  default 'glorot' (lines 50, 57 pass none); biases 0 (tflib/ops/linear.py).
- loss wasserstein: lines 67-68 (disc_cost = mean D(fake) - mean D(real), gen_cost =
  -mean D(fake)).
- gradient_penalty_weight 0.1: line 23 (LAMBDA = .1; the paper's default is 10, the file's
  comment: smaller lambda is faster for toy tasks), the penalty of lines 71-83 (interpolates
  with alpha ~ U(0, 1) per sample, mean (||grad|| - 1)^2).
- d_steps 5: line 25 (CRITIC_ITERS = 5), the loop of lines 232-242.
- Adam 1e-4, beta1 0.5, beta2 0.9, both players: lines 88-105. eps 1e-8: TF's AdamOptimizer
  default (TF adds it to sqrt(v) before bias correction; negligible).
- batch_size 256: line 26 (BATCH_SIZE = 256), for critic and generator.
- num_steps 100,000 generator iterations: line 27 (ITERS = 100000).
Differences: gan_toy.py skips the generator update at iteration 0 (line 234) and so ends
on 5 critic steps; here each step is 5 critic steps then one generator step.
"""

from gan_jax import config_base

SQRT2 = 1.414  # gan_toy.py:225, "dataset /= 1.414 # stdev"


def get_config():
  config = config_base.base()
  config.data.name = "ring8"
  config.data.radius = 2.0 / SQRT2
  config.data.std = 0.02 / SQRT2
  config.model.latent_dim = 2
  config.model.noise = "normal"
  config.model.generator = {"hidden": (512, 512, 512), "activation": "relu", "weight_init": "tflib"}
  config.model.discriminator = {
    "hidden": (512, 512, 512),
    "activation": "relu",
    "weight_init": "tflib",
  }
  config.loss = "wasserstein"
  config.d_steps = 5
  config.gradient_penalty_weight = 0.1
  config.g_optimizer = config_base.adam(1e-4, b1=0.5, b2=0.9, eps=1e-8)
  config.d_optimizer = config_base.adam(1e-4, b1=0.5, b2=0.9, eps=1e-8)
  config.batch_size = 256
  config.num_steps = 100000
  config.steps_per_call = 10
  config.log_every = 1000
  config.sample_every = 10000
  config.checkpoint_every = 10000
  return config
