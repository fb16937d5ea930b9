"""PacGAN (Lin et al. 2018) Table 1, 2D-ring, row GAN, in the authors' own setup.

Published (Table 1, over 10 runs): 6.3 +- 0.5 modes of 8, 98.2 +- 0.2% high-quality
samples, reverse KL 0.45 +- 0.09. PacGAN2/3/4: pacgan_table1_ring_pacgan{2,3,4}.py.

Where each setting comes from. "config.py" is
fjxmlzn/PacGAN synthetic_data_experiments/2DRing_GAN&PacGAN/config.py (commit a7c92481);
"task.py" is synthetic_data_experiments/2DGrid_GAN&PacGAN/pacgan_task.py (commit b331f4ff): the
ring's own pacgan_task.py is not in the stored copy of the repository, and its config.py holds
the same global_config as the grid's (only MEANS and VARIANCES differ), so the grid's task
file, which builds the networks from that config, is taken for both.
- data: ring8 (the library default), means (cos 2 pi i/8, sin 2 pi i/8), radius 1, std 0.01:
  config.py:6-7 (MEANS, VARIANCES = 0.01 ** 2 * I).
- data.training_set_size 100000: config.py:30 "num_sample": 100000; the runs train on a
  fixed set of 100,000 points (PacGAN/pacgan/datasets.py, GaussianPackingMixture: each pack
  slot draws random indices into it).
- model.latent_dim 2, normal: config.py:33-36 (num_zmode 1, num_zdim 2, z_mode_r 0.0,
  z_mode_std 1.0: one Gaussian N(0, I_2); PacGAN/pacgan/distributions.py); task.py:107.
- generator: 4 hidden layers of 400, each Linear without bias -> BatchNormalization -> ReLU,
  linear output with bias: config.py:17,19 (gen_hidden_size 400, Rectifier); task.py:43-59
  (MLP dims [num_zdim, 400 x 4, num_xdim], Sequence([BatchNormalization.apply, ReLU]),
  use_bias=False) and task.py:94 (the output layer's use_bias = True).
- generator BatchNorm momentum 0.95: task.py:149, population statistics updated as
  m * 0.05 + p * 0.95; epsilon 1e-4: Blocks' BatchNormalization default
  (mila-iqia/blocks blocks/bricks/bn.py). Samples for the metrics use the population
  statistics (GraphLogger applies the decoder outside the batch_normalization context), as
  the library's sampling does (train=False).
- discriminator: 3 LinearMaxout layers of 200 units with 5 pieces, then Linear to 1, no
  BatchNorm: config.py:18,20 (disc_hidden_size 200, disc_maxout_pieces 5); task.py:61-90.
  Its input is the pack, 2 * m wide (task.py:64 input_dim = num_xdim * num_packing).
- weight_init 'pacgan' (N(0, 0.02) kernels, zero biases, BatchNorm scales 1): config.py:21-22
  (weights_init_std 0.02, biases_init Constant(0.0)); task.py:67,92; the BatchNorm scale is
  Blocks' own Constant(1) (bn.py: BatchNormalization takes no pushed initialization).
- loss non_saturating: PacGAN/pacgan/bricks.py, PacGAN.compute_losses (D: softplus(-D(x)) +
  softplus(D(G(z))); G: softplus(-D(G(z))), plus a term constant in G).
- Adam 1e-4, beta1 0.8, beta2 0.999, eps 1e-8, both players: config.py:23-24 (learning_rate
  1e-4, beta1 0.8); task.py:157 (one Adam step rule for both); beta2 and epsilon are Blocks'
  Adam defaults (blocks/algorithms: Adam(learning_rate=0.002, beta1=0.9, beta2=0.999,
  epsilon=1e-8)).
- batch 100 packs: config.py:25 "batch_size": 100 counts rows of the packed dataset, each
  holding m samples; the library's batch_size counts samples, so it is 100 * m (GAN: 100).
- num_steps 400,000: config.py:15 "num_epoch": 400, epochs of 100,000 / 100 = 1,000 batches
  (task.py:177 FinishAfter(after_n_epochs=num_epoch)).
- metrics: the library's mixture protocol equals PacGAN's MetricLogger
  (PacGAN/pacgan/extensions.py: 2500 samples (config.py:32 num_log_figure_sample),
  standardized distance to the nearest mode < 3 (dis_thre=3)), measured after the last epoch.
Differences the library cannot express: PacGAN updates both players simultaneously from one
batch (task.py:158, ali_algorithm in IshmaelBelghazi/ALI ali/algorithms.py: one
GradientDescent over both losses); here D steps, then G with fresh noise (Algorithm 1, k = 1).
PacGAN applies G separately to each pack slot's 100 noise vectors, so its BatchNorm
statistics are over 100 samples; here G sees the whole batch of 100 * m at once (and Blocks
keeps a running standard deviation where Flax keeps a running variance). Blocks' Adam
adds epsilon to sqrt(v) before bias correction (negligible). The fixed training set is drawn
once from PRNGKey(0) and sampled with replacement; PacGAN draws a new set per run and
iterates it in shuffled epochs.
"""

from gan_jax import config_base

PACKS_PER_BATCH = 100  # config.py:25
EPOCHS = 400  # config.py:15
TRAINING_SET_SIZE = 100000  # config.py:30


def get_config():
  config = config_base.base()
  config.data.name = "ring8"  # radius 1, std 0.01 (config.py:6-7)
  config.data.training_set_size = TRAINING_SET_SIZE
  config.model.latent_dim = 2
  config.model.noise = "normal"
  config.model.generator = {
    "hidden": (400, 400, 400, 400),
    "activation": "relu",
    "batch_norm": True,
    "batch_norm_momentum": 0.95,
    "batch_norm_epsilon": 1e-4,
    "weight_init": "pacgan",
  }
  config.model.discriminator = {
    "hidden": (200, 200, 200),
    "activation": "maxout",
    "maxout_pieces": 5,
    "weight_init": "pacgan",
  }
  config.loss = "non_saturating"
  config.g_optimizer = config_base.adam(1e-4, b1=0.8, b2=0.999, eps=1e-8)
  config.d_optimizer = config_base.adam(1e-4, b1=0.8, b2=0.999, eps=1e-8)
  config.batch_size = PACKS_PER_BATCH  # GAN: packs of one sample
  config.num_steps = EPOCHS * TRAINING_SET_SIZE // PACKS_PER_BATCH  # 400,000
  config.steps_per_call = 10
  config.log_every = 1000
  config.sample_every = 20000
  config.checkpoint_every = 20000
  return config
