"""The shared contract suite's view of Box: stored files, found by the key in their description.

Box is written to only, so the suite's reading checks skip.  The customer text a Box effect carries is in names
(the customer's folder, the file): the hostile texts go into the file's name and must come out as a name Box
takes and shows literally.  Test support only: production never imports this module.
"""

from __future__ import annotations

import base64
import re
from typing import Any, ClassVar

from connectors.box.connector import key_of
from connectors.box.simcontract import SPEC, box_errors
from continuum.connector import Effect
from continuum.simkit.contract import specs_dir
from continuum.testing.harness import ContractHarness

CUSTOMER_FOLDER = "customer-42 Ann Lee"
INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")


def store(key: str, name: str, content: bytes, folder: str = CUSTOMER_FOLDER, **more: Any) -> Effect:
    return Effect(key, "store", "file", {"customer_folder": folder, "name": name,
                                         "content_b64": base64.b64encode(content).decode(), **more})


class BoxHarness(ContractHarness):
    system: ClassVar[str] = "box"
    stream: ClassVar[str | None] = None
    # "*": the hostile names carry no extension; type limits have their own tests.
    options: ClassVar[dict[str, Any]] = {"allowed_types": "*"}

    def effect(self, sim: Any, key: str, text: str) -> Effect:
        return store(key, text, f"{key}: {text}".encode())  # distinct content: each effect its own file

    def broken_effect(self, sim: Any, key: str) -> Effect:
        return store(key, "   ", b"a name of spaces only")  # Box takes no such name

    def written(self, sim: Any, key: str) -> list[str]:
        return [str(f["name"]) for f in sim.files() if key_of(f) == key]

    def assert_inert(self, stored: str, text: str) -> None:
        problems = [f"{what} {c!r}" for what, chars in (("a path separator", "/\\"),) for c in chars if c in stored]
        problems += [f"a control character {c!r}" for c in stored if ord(c) < 32 or 127 <= ord(c) < 160]
        problems += [f"an invisible or bidi character {m.group()!r}" for m in INVISIBLE.finditer(stored)]
        if stored != stored.strip() or len(stored) > 255 or stored in ("", ".", ".."):
            problems.append("not a name Box takes (spaces at an end, too long, or empty)")
        assert not problems, f"{text!r} was stored as the name {stored!r}: " + "; ".join(problems)
        # Nothing else changed: the words read as the customer wrote them, separators and breaks as spaces.
        expected = " ".join(INVISIBLE.sub("", re.sub(r"[\x00-\x1f]", " ", text)).replace("/", "-")
                            .replace("\\", "-").split())
        assert stored == expected, f"{text!r} does not read back literally from {stored!r}"

    def check_exchanges(self, sim: Any) -> None:
        if not (specs_dir() / SPEC).is_file():
            return  # the official description is not checked out next to the repository
        problems = box_errors(sim.exchanges)
        assert not problems, f"{len(problems)} exchanges break {SPEC}:\n" + "\n".join(problems[:10])


HARNESS = BoxHarness()
