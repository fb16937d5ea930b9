"""Several hosts: `jax.distributed.initialize` from the config or the environment.

Every process runs the same program. After `initialize_from_config`,
`jax.devices()` lists the devices of all processes, `parallel.make_mesh()`
spans them, and the collectives of the step (`lax.pmean`) reduce across
processes (gloo on CPU, NCCL on GPU, ICI on TPU). Each process feeds only its
rows of the global batch (`parallel.process_rows`); the host pipeline then
reads only those rows, and the on-device sampler draws the global indices from
the shared key and gathers only the rows of the process's own devices.
"""

from __future__ import annotations

import os

import jax

from gan_jax.validation import integer

ENVIRONMENT = ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID")
# The rules of the process counts (config.distributed.<name>, or the environment's).
FIELDS = {"num_processes": integer(1), "process_id": integer(0)}


def settings_from_config(config) -> dict | None:
  """{'coordinator_address', 'num_processes', 'process_id'} from config.distributed or the
  environment.

  config.distributed fields win over the environment variables
  JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES and JAX_PROCESS_ID. Returns
  None when neither names a coordinator (a single-process run).
  """
  fields = config.get("distributed", None) if hasattr(config, "get") else None
  fields = fields.to_dict() if hasattr(fields, "to_dict") else dict(fields or {})
  address = fields.get("coordinator_address") or os.environ.get("JAX_COORDINATOR_ADDRESS")
  if not address:
    return None
  settings = {"coordinator_address": str(address)}
  for name, variable in (("num_processes", "JAX_NUM_PROCESSES"), ("process_id", "JAX_PROCESS_ID")):
    value = fields.get(name)
    if value is None and os.environ.get(variable):
      value = os.environ[variable]
    if value is None:
      raise ValueError(
        f"distributed run at {address} needs {name}: set config.distributed.{name} or {variable}"
      )
    try:
      settings[name] = int(value)
    except (TypeError, ValueError):
      raise ValueError(f"config.distributed.{name} must be an integer, got {value!r}") from None
    FIELDS[name](settings[name], f"config.distributed.{name}")
  if settings["process_id"] >= settings["num_processes"]:
    raise ValueError(
      f"config.distributed.process_id must be < num_processes="
      f"{settings['num_processes']}, got {settings['process_id']}"
    )
  return settings


def initialize_from_config(config) -> bool:
  """Joins the processes of a multi-host run; returns True when running with several processes.

  Call it first, before any JAX computation. A no-op (returning False) when
  neither config.distributed nor the environment names a coordinator, and when
  JAX is already initialized.
  """
  if jax.distributed.is_initialized():
    return jax.process_count() > 1
  settings = settings_from_config(config)
  if settings is None:
    return False
  jax.distributed.initialize(**settings)
  if jax.process_count() != settings["num_processes"]:
    raise ValueError(
      f"this process was started for num_processes={settings['num_processes']}, but the "
      f"coordinator at {settings['coordinator_address']} runs {jax.process_count()}; start "
      "every process with the same num_processes"
    )
  return jax.process_count() > 1
