"""The formulations benchmarks/xla_cpu_findings.py times against the shipped layers compute
the same function as lax's convolutions (its "formulations tried" table compares like with like),
and the matrix products it times for a step are the compiled step's own."""

import os
import sys

import jax
import numpy as np
import pytest
from jax import lax

sys.path.insert(
  0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks")
)
import xla_cpu_findings as findings  # noqa: E402

DIMS = ("NHWC", "HWIO", "NHWC")


def random(shape, seed):
  return jax.random.normal(jax.random.PRNGKey(seed), shape)


@pytest.mark.parametrize("size,kernel", [(14, 5), (8, 3), (12, 4)])
def test_strided_convolution_formulations_equal_lax(size, kernel):
  x, w = random((2, size, size, 3), 0), random((kernel, kernel, 3, 5), 1)
  expected = lax.conv_general_dilated(x, w, (2, 2), "SAME", dimension_numbers=DIMS)
  for formulation in (findings.conv_by_patches, findings.conv_space_to_depth):
    np.testing.assert_allclose(
      formulation(x, w, 2), expected, atol=1e-5, err_msg=formulation.__name__
    )


def test_library_layers_are_the_shipped_formulations():
  for name, kind, x_shape, w_shape, stride in findings.DCGAN28_LAYERS:
    x = random((1,) + x_shape[1:], 4)
    w = random(w_shape, 5) * 0.1
    ours = findings.library_layer(kind, w_shape, stride)(x, w)
    if kind == "convt":
      expected = lax.conv_transpose(x, w, (stride, stride), "SAME", dimension_numbers=DIMS)
    else:
      expected = lax.conv_general_dilated(x, w, (stride, stride), "SAME", dimension_numbers=DIMS)
    np.testing.assert_allclose(ours, expected, atol=1e-4, err_msg=name)


@pytest.mark.parametrize("workload", ["mlp", "toy2d"])
def test_step_matmuls_are_the_products_of_the_compiled_step(workload):
  # "Finding: the matrix-product floor" sums step_matmuls' products as the step's own: the
  # loop's step (compare_pytorch's workload, one step per call) holds exactly these, plus
  # the two Gram matrices of the diversity diagnostic (fakes and reals, B x B).
  import re

  import compare_pytorch
  from gan_jax import builders, data, train

  layers = findings.DENSE_LAYERS[workload]
  batch = compare_pytorch.BATCH[workload]
  config = compare_pytorch.jax_config(workload, batch)
  config.parallel, config.nonfinite, config.steps_per_call = "none", "stop", 1
  if workload == "toy2d":
    source = data.toy_source(data.toy.ring())
  else:
    source = data.image_source("random", np.zeros((256, 28, 28, 1), np.uint8), None)
  runner = train.make_loop_step(source, config)
  state = runner.put_state(builders.create_state_from_config(config, source.data_shape))
  text = runner.step_fn.lower(state, runner.put_data(source.arrays)).as_text()
  operands = re.findall(
    r"stablehlo\.dot_general .*?: \(tensor<(\S+?)xf32>, tensor<(\S+?)xf32>\)", text
  )
  compiled = sorted(
    tuple(sorted(tuple(int(n) for n in s.split("x")) for s in pair)) for pair in operands
  )
  width = int(np.prod(source.data_shape))
  expected = [(lhs, rhs) for _, lhs, rhs, _ in findings.step_matmuls(*layers, batch)]
  expected += [((batch, width), (width, batch))] * 2
  assert compiled == sorted(tuple(sorted(pair)) for pair in expected)
