"""The Box simulator's demo state: a customer folder staff made by hand, with one file in it."""

from __future__ import annotations

from typing import Any

from connectors.box.plugin import SIM_ROOT_FOLDER
from connectors.box.simulator import BoxSimulator

# A seed file's `box:` section (`continuum simulate --seed FILE`):
#
#   box:
#     files:                      # files staff put in a customer's folder by hand
#       - {folder: "customer-7 Kim Ito", name: contract.pdf, text: "..."}
SEED_SHAPE = "box: {files: [{folder, name, text}]}"


def seed(sim: BoxSimulator) -> None:
    load(sim, {"files": [{"folder": "customer-7 Kim Ito", "name": "signed-order.txt", "text": "Order 7731, signed."}]})


def load(sim: BoxSimulator, data: dict[str, Any]) -> None:
    folders: dict[str, int] = {}
    for entry in data.get("files") or []:
        folder = str(entry["folder"])
        if folder not in folders:
            folders[folder] = sim.add_folder(SIM_ROOT_FOLDER, folder)
        sim.add_file(folders[folder], str(entry["name"]), str(entry.get("text") or "").encode())
