"""One's own data: a folder of PNG/JPEG files, named npz arrays, images of any shape
resized to data.image_size, tfds downloads, and the DCGAN sizes (3, 4 or 7 times a power
of two) that such data may have."""

import json
import os

import jax
import jax.numpy as jnp
import flax.linen as nn
import ml_collections
import numpy as np
import pytest
from PIL import Image

from gan_jax import cli, config_base, data, models, recipes, runs, sampling, train, validation
from gan_jax.data import image_folder
from gan_jax.models import dcgan
from gan_jax.models.layers import FourierConvTranspose


def write(path, pixels, mode=None):
  path.parent.mkdir(parents=True, exist_ok=True)
  Image.fromarray(np.asarray(pixels, np.uint8), mode).save(path)


def folder_config(path, **fields):
  return ml_collections.ConfigDict(
    {"source": "images", "path": str(path), "cache_dir": str(path.parent / "cache"), **fields}
  )


def test_class_subfolders_become_labels_and_files_are_cropped_at_the_center(tmp_path):
  """Catches an off-center crop, a resize of the longer side, gray files not made RGB, and
  labels that do not follow the sorted top-level subfolders (nested ones included)."""
  root = tmp_path / "pictures"
  columns = np.tile(np.arange(0, 240, 10, dtype=np.uint8), (12, 1))  # 12 x 24: value = 10 * column
  write(root / "cats" / "a.png", np.stack([columns] * 3, -1))
  write(root / "cats" / "more" / "b.jpeg", np.full((40, 20), 200))  # gray, portrait: resized
  write(root / "dogs" / "c.PNG", np.full((24, 24, 4), 50))  # RGBA
  (root / "dogs" / "notes.txt").write_text("not an image")
  source = data.make_data_source(folder_config(root, image_size=12))
  assert (source.kind, source.data_shape, source.num_classes, source.name) == (
    "image",
    (12, 12, 3),
    2,
    "pictures",
  )
  x, labels = source.arrays["x"], source.arrays["label"]
  assert x.dtype == np.uint8 and x.shape == (3, 12, 12, 3)
  assert labels.tolist() == [0, 0, 1]  # cats/a.png, cats/more/b.jpeg, dogs/c.PNG
  np.testing.assert_array_equal(x[0, :, :, 0], columns[:, 6:18])  # the middle 12 of 24 columns
  assert np.all(np.abs(x[1].astype(int) - 200) <= 1) and np.all(x[2] == 50)


def test_size_and_channels_default_to_the_files_own(tmp_path):
  root = tmp_path / "gray"
  for i in range(3):
    write(root / f"{i}.png", np.full((16, 16), 40 * i))
  source = data.make_data_source(folder_config(root))
  assert source.data_shape == (16, 16, 1) and source.num_classes == 0
  assert source.arrays["x"][:, 0, 0, 0].tolist() == [0, 40, 80]
  write(root / "3.png", np.zeros((20, 16, 3)))
  with pytest.raises(
    ValueError,
    match=r"images in .*gray have 2 different sizes \(e.g. 0.png "
    r"is 16x16, 3.png is 16x20\); set config.data.image_size",
  ):
    data.make_data_source(folder_config(root))


def test_the_cache_is_read_again_when_the_folder_changes(tmp_path, monkeypatch):
  """Catches a cache keyed by the folder's name alone: a changed file would be served stale."""
  root = tmp_path / "cached"
  write(root / "a.png", np.full((8, 8, 3), 10))
  first = data.make_data_source(folder_config(root)).arrays["x"]
  assert len(os.listdir(tmp_path / "cache")) == 1
  reads = []
  original = image_folder._read
  monkeypatch.setattr(image_folder, "_read", lambda *a: reads.append(a[1]) or original(*a))
  np.testing.assert_array_equal(data.make_data_source(folder_config(root)).arrays["x"], first)
  assert reads == []  # from the cache
  write(root / "a.png", np.full((8, 8, 3), 99))
  os.utime(root / "a.png", ns=(1, 1))  # a different modification time, whatever the clock
  again = data.make_data_source(folder_config(root)).arrays["x"]
  assert reads == ["a.png"] and np.all(again == 99)
  data.make_data_source(folder_config(root, image_size=6))  # another size: another cache
  assert len(os.listdir(tmp_path / "cache")) == 3


def image_run(tmp_path, folder, *extra):
  return [
    "train",
    "--config",
    os.path.join(
      os.path.dirname(__file__), "..", "experiments", "configs", "dcgan_fashion_mnist.py"
    ),
    "--workdir",
    str(tmp_path / "run"),
    "--no-progress",
    "--config.data.source='images'",
    f"--config.data.path='{folder}'",
    f"--config.data.cache_dir='{tmp_path / 'cache'}'",
    *extra,
  ]


@pytest.mark.parametrize(
  "case, message",
  [
    ("truncated", "image file {folder}/b/broken.png cannot be read ("),
    ("not an image", "image file {folder}/b/broken.png cannot be read ("),
    ("empty folder", "image folder '{folder}' holds no image files; accepted: .png, .jpg, .jpeg"),
    ("no folder", "image folder '{folder}' does not exist or is not a directory"),
    (
      "size DCGAN cannot make",
      "DCGAN image shape (10, 10, 3) is not supported; accepted: (H, H, C) "
      "with H = 3, 4 or 7 times a power of two >= 2 (6, 8, 12, 14, 16, 24",
    ),
    ("channels", "config.data.channels must be 1 (gray), 3 (RGB) or 0"),
  ],
)
def test_bad_input_is_one_line_naming_the_file_or_value(tmp_path, capsys, case, message):
  folder = tmp_path / "faces"
  extra = []
  if case in ("truncated", "not an image"):
    write(folder / "a" / "good.png", np.zeros((8, 8, 3)))
    write(folder / "b" / "broken.png", np.zeros((8, 8, 3)))
    content = (folder / "b" / "broken.png").read_bytes()
    (folder / "b" / "broken.png").write_bytes(content[:40] if case == "truncated" else b"text")
  elif case == "empty folder":
    folder.mkdir()
  elif case == "size DCGAN cannot make":
    write(folder / "a.png", np.zeros((10, 10, 3)))
  elif case == "channels":
    write(folder / "a.png", np.zeros((8, 8, 3)))
    extra = ["--config.data.channels=2"]
  status = cli.main(image_run(tmp_path, folder, *extra))
  err = capsys.readouterr().err.strip().splitlines()
  assert status == 2 and len(err) == 1, err
  assert message.format(folder=folder) in err[0]


def test_twenty_steps_on_a_folder_of_images(tmp_path):
  """A folder of 12 x 12 RGB files in two class folders trains, is saved as the run's data
  and read back (from the cache) by `load_run`; samples come out at the files' size."""
  rng = np.random.default_rng(0)
  root = tmp_path / "shapes"
  for label in ("circles", "squares"):
    for i in range(8):
      write(root / label / f"{i}.png", rng.integers(0, 256, (12, 12, 3)))
  config = config_base.fashion_mnist()
  config.data = folder_config(root)
  config.model.name = "seed001_mlp"  # small players: the data is what is tested here
  config.model.latent_dim = 8
  config.model.generator = {"hidden": (16,)}
  config.model.discriminator = {"hidden": (16,)}
  config.num_steps, config.batch_size = 20, 8
  config.log_every = config.sample_every = config.checkpoint_every = 20
  config.num_sample_images = 4
  state = train.train_and_evaluate(config, str(tmp_path / "run"), progress=False)
  assert int(state.step) == 20
  saved = json.loads((tmp_path / "run" / "config.json").read_text())
  assert saved["data"]["source"] == "images"
  _, source, restored = runs.load_run(str(tmp_path / "run"))
  assert source.data_shape == (12, 12, 3) and source.num_classes == 2
  assert sampling.draw_samples(restored, 3, seed=0).shape == (3, 12, 12, 3)
  assert (tmp_path / "run" / "samples" / "step_0000020.png").exists()


def test_npz_array_names_are_configurable(tmp_path):
  path = tmp_path / "mine.npz"
  np.savez(path, pictures=np.zeros((4, 8, 8, 3), np.uint8), classes=np.arange(4))
  source = data.make_data_source(
    ml_collections.ConfigDict(
      {"source": "npz", "path": str(path), "image_key": "pictures", "label_key": "classes"}
    )
  )
  assert source.data_shape == (8, 8, 3) and source.num_classes == 4
  with pytest.raises(ValueError, match=r"mine.npz has no array 'x'; it has: pictures, classes"):
    data.make_data_source(ml_collections.ConfigDict({"source": "npz", "path": str(path)}))


def test_npz_files_that_are_not_what_the_source_takes_are_one_line_naming_them(tmp_path):
  """Before: a .npy gave "'numpy.ndarray' object does not support the context manager
  protocol"; a file that is not a zip "contains pickled (object) data ... allow_pickle";
  a data.label_key naming no array was ignored (the run trained without labels); one
  (H, W, C) image and channels-first images were read as (N, H, W) and (N, H, W, C)."""
  np.save(tmp_path / "plain.npy", np.zeros((4, 8, 8), np.uint8))
  (tmp_path / "garbage.npz").write_text("not a zip")
  np.savez(tmp_path / "labelled.npz", x=np.zeros((4, 8, 8, 1), np.uint8), label=np.arange(4))
  np.savez(tmp_path / "one.npz", x=np.zeros((28, 28, 3), np.uint8))  # was 28 images of 28 x 3
  np.savez(tmp_path / "first.npz", x=np.zeros((4, 3, 16, 16), np.uint8))  # was 3 x 16, 16 channels
  cases = [
    ({"path": str(tmp_path / "plain.npy")}, r"plain.npy holds a single array \(.npy\)"),
    (
      {"path": str(tmp_path / "garbage.npz")},
      r"garbage.npz is not a readable .npz file \(a zip of arrays\)",
    ),
    (
      {"path": str(tmp_path / "labelled.npz"), "label_key": "y"},
      r"labelled.npz has no array 'y' \(data.label_key\); it has: x, label",
    ),
    (
      {"path": str(tmp_path / "one.npz")},
      r"one.npz:x of shape \(28, 28, 3\) looks like one \(H, W, C\) image",
    ),
    (
      {"path": str(tmp_path / "first.npz")},
      r"first.npz:x of shape \(4, 3, 16, 16\) looks channels-first \(N, C, H, W\)",
    ),
  ]
  for fields, message in cases:
    with pytest.raises(ValueError, match=message):
      data.make_data_source(ml_collections.ConfigDict({"source": "npz", **fields}))


def test_float_npz_images_out_of_range_are_refused_before_resizing(tmp_path):
  """Before: with data.image_size the resize clipped [0, 255] floats into [-1, 1] (98% of the
  pixels became 1.0) and the run trained on them."""
  np.savez(tmp_path / "f255.npz", x=np.full((2, 28, 28, 1), 200.0, np.float32))
  config = ml_collections.ConfigDict(
    {"source": "npz", "path": str(tmp_path / "f255.npz"), "image_size": 32}
  )
  with pytest.raises(ValueError, match=r"must lie in \[-1, 1\], got \[200, 200\]"):
    data.make_data_source(config)


def test_a_16_bit_png_is_scaled_by_65535_whatever_its_own_maximum(tmp_path):
  """Before: a dark 16-bit file (200 of 65535) became 200 of 255."""
  Image.fromarray(np.full((8, 8), 200, np.uint16)).save(tmp_path / "dark.png")
  Image.fromarray(np.full((8, 8), 60000, np.uint16)).save(tmp_path / "bright.png")
  pictures, _, _ = image_folder.load_folder(str(tmp_path), cache_dir=str(tmp_path / "cache"))
  np.testing.assert_array_equal(pictures.reshape(2, -1).mean(1), [233, 1])  # bright, dark


def test_npz_and_tfds_images_of_any_shape_are_resized_and_cropped_to_image_size(tmp_path):
  """A 48 x 64 RGB npz (which no DCGAN takes as it is) and CelebA's 218 x 178 become
  32 x 32 and 64 x 64; catches image_size ignored outside folders and a crop off center."""
  import tensorflow_datasets as tfds

  columns = np.tile(np.arange(64, dtype=np.uint8) * 3, (48, 1))  # value = 3 * column
  path = tmp_path / "wide.npz"
  np.savez(
    path, x=np.stack([np.stack([columns] * 3, -1)] * 2), floats=np.zeros((2, 48, 64, 2), np.float32)
  )
  config = ml_collections.ConfigDict({"source": "npz", "path": str(path), "image_size": 48})
  source = data.make_data_source(config)
  assert source.data_shape == (48, 48, 3) and source.arrays["x"].dtype == np.uint8
  np.testing.assert_array_equal(source.arrays["x"][0, :, :, 1], columns[:, 8:56])
  config.image_size, config.image_key = 24, "floats"
  assert data.make_data_source(config).data_shape == (24, 24, 2)
  for pipeline in ("device", "host"):
    tfds_config = ml_collections.ConfigDict(
      {"source": "tfds", "name": "celeb_a", "image_size": 64, "pipeline": pipeline}
    )
    with tfds.testing.mock_data(num_examples=3):
      source = data.make_data_source(tfds_config)
      rows = source.row_reader()(np.array([0, 2]))
    assert source.data_shape == (64, 64, 3) and rows["x"].shape == (2, 64, 64, 3)


def test_tfds_downloads_only_when_asked(tmp_path, monkeypatch):
  """Catches download=False left hard-coded (config.data.download=True would not download)."""
  import tensorflow_datasets as tfds

  calls = []

  def fake_data_source(name, **kwargs):
    calls.append(kwargs["download"])
    raise RuntimeError("offline")

  monkeypatch.setattr(tfds, "data_source", fake_data_source)
  config = ml_collections.ConfigDict({"source": "tfds", "name": "mnist", "data_dir": str(tmp_path)})
  with pytest.raises(FileNotFoundError, match="set config.data.download=True to download"):
    data.make_data_source(config)
  config.download = True
  with pytest.raises(
    ValueError,
    match=r"tfds dataset 'mnist' could not be downloaded and "
    r"prepared in .* \(RuntimeError: offline\)",
  ):
    data.make_data_source(config)
  assert calls == [False, True]

  def missing_module(name, **kwargs):  # what tensorflow-datasets 4.9.10 raises offline
    raise ModuleNotFoundError("No module named 'importlib_resources'", name="importlib_resources")

  monkeypatch.setattr(tfds, "data_source", missing_module)
  with pytest.raises(
    ModuleNotFoundError,
    match=r"preparing needs 'importlib_resources', which tensorflow-datasets does not install "
    r"\(pip install tensorflow importlib_resources\), or on a machine with them run `tfds build",
  ):
    data.make_data_source(config)


def test_dcgan_makes_every_size_of_3_4_or_7_times_a_power_of_two():
  """Catches a size table that lists some sizes only, and a base picked wrongly (28 = 7 * 4,
  not a power of two; 48 = 3 * 16)."""
  assert dcgan.supported_sizes(128) == [6, 8, 12, 14, 16, 24, 28, 32, 48, 56, 64, 96, 112, 128]
  assert [dcgan.upsampling_depth((s, s, 1)) for s in (28, 32, 48, 64, 128)] == [
    (7, 2),
    (4, 3),
    (3, 4),
    (4, 4),
    (4, 5),
  ]
  key = jax.random.PRNGKey(0)
  for size in (12, 48, 56, 96):
    g, d = models.build_models(
      "dcgan",
      (size, size, 3),
      options={"generator": {"features": 4}, "discriminator": {"features": 4}},
    )
    z = jnp.zeros((2, 8))
    g_vars = jax.eval_shape(lambda: g.init(key, z, train=False))
    fake = jax.eval_shape(lambda v: g.apply(v, z, train=False), g_vars)
    assert fake.shape == (2, size, size, 3)
    x = jnp.zeros(fake.shape)
    d_vars = jax.eval_shape(lambda: d.init(key, x, train=False))
    assert jax.eval_shape(lambda v: d.apply(v, x, train=False), d_vars).shape == (2,)
  for shape in [(4, 4, 1), (10, 10, 1), (24, 12, 3), (40, 40, 3)]:
    with pytest.raises(ValueError, match=r"DCGAN image shape .* is not supported"):
      dcgan.upsampling_depth(shape)


def test_the_dft_first_layer_of_a_base_3_generator_equals_flax_s():
  """On CPU the generator's first layer of base 3 sizes is computed by DFT: a 5 x 5 kernel on a
  3 x 3 map, larger than the map (layers' own tests stop at 4 x 4 maps)."""
  rng = np.random.default_rng(0)
  x = rng.normal(size=(2, 3, 3, 6)).astype(np.float32)
  variables = {"params": {"kernel": rng.normal(size=(5, 5, 6, 4)).astype(np.float32)}}
  reference = nn.ConvTranspose(4, (5, 5), padding="SAME", use_bias=False)
  fast = FourierConvTranspose(4, (5, 5), use_bias=False)
  assert models.layer_formulations("cpu", (12, 12, 3))["first_conv"] == "fourier"
  np.testing.assert_allclose(
    jax.jit(fast.apply)(variables, x), jax.jit(reference.apply)(variables, x), atol=1e-5
  )


def test_pictures_of_images_with_2_or_5_channels_show_each_channel_in_gray(tmp_path):
  """Before: 'Third dimension must be 3 or 4' at the first sample picture, ending the run
  before its checkpoint."""
  from gan_jax import plotting

  one = tmp_path / "one.png"
  plotting.save_image_grid(np.zeros((4, 6, 6, 1), np.float32), str(one))
  width = np.asarray(Image.open(one)).shape[1]
  for channels in (2, 5):
    images = np.stack([np.full((4, 6, 6), c / channels) for c in range(channels)], -1)
    path = tmp_path / f"c{channels}.png"
    plotting.save_image_grid(images.astype(np.float32), str(path))
    picture = np.asarray(Image.open(path).convert("L"))
    assert picture.shape[1] == channels * width
    tones = [int(np.median(picture[:, c * width : (c + 1) * width])) for c in range(channels)]
    assert tones == sorted(tones) and len(set(tones)) == channels  # channel c's own grid


def test_an_empty_class_folder_is_refused_rather_than_renumbering_the_classes(tmp_path):
  """Before: an empty 'b' was dropped, so 'c' became class 1 where the sorted subfolders make
  it class 2. Hidden folders (.ipynb_checkpoints) are not classes."""
  root = tmp_path / "abc"
  write(root / "a" / "0.png", np.zeros((8, 8)))
  write(root / "c" / "0.png", np.zeros((8, 8)))
  write(root / ".ipynb_checkpoints" / "0-checkpoint.png", np.zeros((8, 8)))
  (root / "b").mkdir()
  with pytest.raises(ValueError, match=r"class folder .*abc/b holds no image files \(.png"):
    image_folder.load_folder(str(root), cache_dir=str(tmp_path / "cache"))
  (root / "b" / "0.png").write_bytes((root / "a" / "0.png").read_bytes())
  _, labels, names = image_folder.load_folder(str(root), cache_dir=str(tmp_path / "cache"))
  assert names == ["a", "b", "c"] and labels.tolist() == [0, 1, 2]


def test_a_symbolic_link_to_a_folder_above_is_not_followed(tmp_path):
  """Before: os.walk followed root/a/up -> root again and again, 40 levels deep, reading the
  one image 40 times; with the second link below the walk branched at every level and did
  not end. A link to a folder elsewhere is still read."""
  root = tmp_path / "loop"
  write(root / "a" / "0.png", np.zeros((8, 8)))
  os.symlink(root, root / "a" / "up")
  os.symlink(root / "a", tmp_path / "elsewhere")
  write(root / "b" / "0.png", np.zeros((8, 8)))
  os.symlink(tmp_path / "elsewhere", root / "b" / "more")  # elsewhere -> root/a: read here too
  assert image_folder.list_files(str(root)) == ["a/0.png", "b/0.png", "b/more/0.png"]


def test_a_conditional_recipe_on_a_folder_without_labels_names_the_file_outside_the_classes(
  tmp_path, capsys
):
  """Before: one image beside the class folders turned the labels off without a word, and a
  conditional run stopped at its first step (its run folder written) with no mention of
  the file."""
  root = tmp_path / "faces"
  for label in ("frowning", "smiling"):
    write(root / label / "0.png", np.zeros((8, 8, 3)))
  write(root / "cover.png", np.zeros((8, 8, 3)))
  args = image_run(tmp_path, root)
  args[args.index("--config") + 1] = args[args.index("--config") + 1].replace(
    "dcgan_fashion_mnist", "cgan_fashion_mnist"
  )
  assert cli.main(args) == 2
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 1 and err[0].endswith(
    f"recipe 'conditional' needs class labels but data 'faces' has none; {root}/cover.png lies "
    "outside the class subfolders (labels come from the subfolders only when every image "
    "lies in one)"
  ), err
  assert not (tmp_path / "run").exists()  # it stops before training, leaving no folder


def test_an_outlier_label_is_named_as_such_against_variant_num_classes(tmp_path):
  """Before: labels 0-3 and one 10**9 said "accepted: variant.num_classes=1000000001"."""
  path = tmp_path / "outlier.npz"
  np.savez(path, x=np.zeros((5, 8, 8, 1), np.uint8), label=np.array([0, 1, 2, 3, 10**9]))
  config = ml_collections.ConfigDict(
    {
      "data": {"source": "npz", "path": str(path)},
      "recipe": "conditional",
      "variant": {"num_classes": 4},
    }
  )
  source = data.make_data_source(config)

  with pytest.raises(
    ValueError,
    match=r"has labels up to 1000000000 \(5 distinct values\) but variant.num_classes is 4; "
    r"accepted: labels in \[0, 4\), or variant.num_classes=1000000001",
  ):
    validation.check_classes(config, source, recipes.recipe_of(config))
