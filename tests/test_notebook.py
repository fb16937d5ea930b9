"""The quickstart notebook runs top to bottom and plots samples."""

import os

import nbformat
from nbclient import NotebookClient

from tests.conftest import ROOT


def test_quickstart_notebook_executes_and_plots():
  path = os.path.join(ROOT, "experiments", "quickstart.ipynb")
  notebook = nbformat.read(path, as_version=4)
  NotebookClient(
    notebook,
    timeout=600,
    kernel_name="python3",
    resources={"metadata": {"path": os.path.join(ROOT, "experiments")}},
  ).execute()
  outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
  assert not [o for o in outputs if o.output_type == "error"]
  assert any("image/png" in o.get("data", {}) for o in outputs)
  assert any("1500" in o.get("text", "") for o in outputs)
