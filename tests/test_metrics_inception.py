"""The Inception-FID weights loader, on a weights file of the documented format made here."""

import numpy as np
import pytest

from gan_jax.metrics import inception


def _write_weights(path, drop=None, reshape=None):
  rng = np.random.default_rng(0)
  arrays = {}
  for name, shape in inception.inception_weight_shapes().items():
    if name == drop:
      continue
    if name == reshape:
      shape = shape[:-1] + (shape[-1] + 1,)
    if name.endswith("conv.weight"):
      arrays[name] = (rng.normal(size=shape) * np.sqrt(2.0 / np.prod(shape[1:]))).astype(np.float32)
    elif name.endswith(("running_var", "bn.weight")):
      arrays[name] = np.ones(shape, np.float32)
    else:
      arrays[name] = np.zeros(shape, np.float32)
  arrays["fc.weight"] = np.zeros((1008, 2048), np.float32)  # in the real file, ignored
  np.savez(path, **arrays)
  return str(path)


def test_the_architecture_has_inceptions_parameter_count():
  shapes = inception.inception_weight_shapes()
  # torchvision publishes 27,161,264 trainable parameters for Inception-v3 with its
  # 1000-way fc (2048 * 1000 + 1000) and auxiliary head (conv 768->128 1x1 + BN,
  # conv 128->768 5x5 + BN, fc 768 * 1000 + 1000); the rest is this network.
  fc = 2048 * 1000 + 1000
  aux = 768 * 128 + 2 * 128 + 128 * 768 * 25 + 2 * 768 + 768 * 1000 + 1000
  conv = sum(np.prod(s) for n, s in shapes.items() if n.endswith("conv.weight"))
  bn_affine = sum(np.prod(s) for n, s in shapes.items() if n.endswith(("bn.weight", "bn.bias")))
  assert len(shapes) == 5 * 94  # 94 conv blocks, each a kernel and 4 batch-norm vectors
  assert conv + bn_affine == 27_161_264 - fc - aux


def test_a_missing_file_names_the_weights_and_the_conversion(tmp_path):
  with pytest.raises(FileNotFoundError, match="convert_inception"):
    inception.load_inception_weights(str(tmp_path / "absent.npz"))
  with pytest.raises(FileNotFoundError, match="pt_inception-2015-12-05"):
    inception.load_inception_weights(None)


def test_an_unconverted_pth_is_refused(tmp_path):
  path = tmp_path / "pt_inception.pth"
  path.write_bytes(b"\x80\x02not an npz")
  with pytest.raises(ValueError, match="convert"):
    inception.load_inception_weights(str(path))


def test_missing_and_misshapen_entries_are_named(tmp_path):
  with pytest.raises(ValueError, match="Mixed_6c.branch7x7_2.conv.weight"):
    inception.load_inception_weights(_write_weights(tmp_path / "a.npz",
                                                    drop="Mixed_6c.branch7x7_2.conv.weight"))
  with pytest.raises(ValueError, match="Mixed_7c.branch_pool.bn.bias.*expected"):
    inception.load_inception_weights(_write_weights(tmp_path / "b.npz",
                                                    reshape="Mixed_7c.branch_pool.bn.bias"))


def test_loaded_weights_run_the_network_to_2048_features(tmp_path):
  weights = inception.load_inception_weights(_write_weights(tmp_path / "w.npz"))
  assert "fc.weight" not in weights
  images = np.stack([np.full((75, 75, 3), -0.5, np.float32),
                     np.random.default_rng(1).uniform(-1, 1, (75, 75, 3)).astype(np.float32)])
  out = np.asarray(inception.inception_features(weights, images, resize=False))
  assert out.shape == (2, inception.FEATURE_DIM)
  assert np.isfinite(out).all() and (out >= 0).all()  # a mean of ReLU outputs
  assert not np.allclose(out[0], out[1])


def test_average_pool_excludes_padding_so_a_constant_stays_constant():
  x = np.full((1, 5, 6, 2), 3.0, np.float32)
  np.testing.assert_allclose(inception._avg_pool_exclude_padding(x), x)
