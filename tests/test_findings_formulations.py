"""The formulations benchmarks/xla_cpu_findings.py times against the shipped layers compute
the same function as lax's convolutions (its "formulations tried" table compares like with like)."""

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
