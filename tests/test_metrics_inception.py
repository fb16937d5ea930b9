"""The Inception-FID network and its weights loader, on weights files of the documented format
made here, against pytorch-fid's values on the same weights and images."""

import numpy as np
import pytest

import metric_references
from gan_jax.metrics import convert_inception, inception


def _write_weights(path, drop=None, reshape=None, classifier=True):
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
  if classifier:
    arrays["fc.weight"] = np.zeros((1008, 2048), np.float32)
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


def test_a_file_that_is_not_an_npz_suggests_converting_the_pth_not_itself(tmp_path):
  path = tmp_path / "fake.npz"
  path.write_bytes(b"not a zip archive")
  with pytest.raises(ValueError) as error:
    inception.load_inception_weights(str(path))
  assert f"convert_inception {inception.PYTORCH_FID_WEIGHTS} inception_fid.npz" in str(error.value)


def test_the_converter_fails_in_one_line_and_writes_nothing(tmp_path, capsys):
  garbage = tmp_path / "garbage.pth"
  garbage.write_bytes(b"not a pickle")
  out = tmp_path / "out.npz"
  try:
    import torch  # noqa: F401

    unreadable = "is not a state dict that torch.load(weights_only=True) reads"
  except ImportError:  # the converter's one dependency beyond the package's
    unreadable = "converting a .pth file needs PyTorch once"
  for source, message in (
    (tmp_path / "absent.pth", f"weights file '{tmp_path / 'absent.pth'}' does not exist"),
    (garbage, unreadable),
  ):
    assert convert_inception.main([str(source), str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("convert_inception: error: ") and message in err[0]
  assert not out.exists()


def test_missing_and_misshapen_entries_are_named(tmp_path):
  with pytest.raises(ValueError, match="Mixed_6c.branch7x7_2.conv.weight"):
    inception.load_inception_weights(
      _write_weights(tmp_path / "a.npz", drop="Mixed_6c.branch7x7_2.conv.weight")
    )
  with pytest.raises(ValueError, match="Mixed_7c.branch_pool.bn.bias.*expected"):
    inception.load_inception_weights(
      _write_weights(tmp_path / "b.npz", reshape="Mixed_7c.branch_pool.bn.bias")
    )


def test_the_identity_names_the_weights_by_their_values_not_their_file(tmp_path):
  """Two files of the same weights (another name, other compression) share the hash part of
  their identity; one changed number changes it."""
  weights = metric_references.random_inception_weights()
  np.savez(tmp_path / "a.npz", **weights)
  np.savez_compressed(tmp_path / "b.npz", **weights)
  weights["fc.bias"] = weights["fc.bias"].copy()
  weights["fc.bias"][0] += 1.0
  np.savez(tmp_path / "c.npz", **weights)
  a, b, c = (
    inception.weights_identity(
      str(tmp_path / name), inception.load_inception_weights(str(tmp_path / name))
    )
    for name in ("a.npz", "b.npz", "c.npz")
  )
  assert a.startswith("inception-v3-fid:a.npz:sha256-") and len(a.rsplit("-", 1)[1]) == 12
  assert a.rsplit(":", 1)[1] == b.rsplit(":", 1)[1]
  assert a.rsplit(":", 1)[1] != c.rsplit(":", 1)[1]


@pytest.fixture(scope="module")
def reference_extractor(tmp_path_factory):
  path = tmp_path_factory.mktemp("inception") / "weights.npz"
  np.savez(path, **metric_references.random_inception_weights())
  return inception.InceptionFeatures(str(path), batch_size=3)


@pytest.mark.parametrize("name", ["rgb32", "gray28", "rgb80x64"])
def test_features_and_logits_match_pytorch_fid_at_any_size(reference_extractor, name):
  """pytorch-fid's InceptionV3 (resize to 299, FID blocks, pool features) and torch-fidelity's
  unbiased logits computed these from the same weights and images
  (tests/metric_references.py); gray images are repeated to RGB for both."""
  reference = np.load(metric_references.PATH)
  images = metric_references.fixed_images()[name]
  features = reference_extractor(images)
  expected = reference[f"features_{name}"]
  assert features.shape == (len(images), inception.FEATURE_DIM)
  np.testing.assert_allclose(features, expected, rtol=2e-3, atol=2e-4)
  assert np.abs(features - expected).max() < 0.01 * np.abs(expected).max()
  logits = reference_extractor.logits(features)
  np.testing.assert_allclose(logits, reference[f"logits_{name}"], rtol=2e-3, atol=5e-4)


def test_uint8_images_are_scaled_to_minus_one_one(reference_extractor):
  images = np.random.default_rng(3).integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
  np.testing.assert_allclose(
    reference_extractor(images), reference_extractor(images / 127.5 - 1.0), rtol=1e-5, atol=1e-6
  )


def test_weights_without_the_classifier_give_features_but_no_logits(tmp_path):
  weights = inception.load_inception_weights(_write_weights(tmp_path / "w.npz", classifier=False))
  assert "fc.weight" not in weights
  with pytest.raises(ValueError, match="images must be .* C 1 .gray. or 3 .RGB., got shape"):
    inception.prepare_images(np.zeros((1, 8, 8, 2), np.float32))


def test_average_pool_excludes_padding_so_a_constant_stays_constant():
  x = np.full((1, 5, 6, 2), 3.0, np.float32)
  np.testing.assert_allclose(inception._avg_pool_exclude_padding(x), x)
