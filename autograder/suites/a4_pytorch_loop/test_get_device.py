"""Hidden checks of get_device(): cuda when torch reports it available, else cpu.

Both branches are checked on every runner: a helper in the student's process
makes ``torch.cuda.is_available()`` (and ``device_count()``) report either
answer while ``get_device`` runs, so a CPU runner still proves the CUDA branch.
The contract (stated in the notebook) is that the device is decided when
``get_device()`` is called: a device chosen once at import time cannot be
checked for the branch the runner does not have, so it is not accepted.
"""

import pytest

from autograder.testing import expect, points


@pytest.mark.parametrize("available,expected", [(True, "cuda"), (False, "cpu")], ids=["cuda", "no_cuda"])
@points(1, hint="Decide inside get_device, each time it is called (not once at import time): "
                "`return torch.device('cuda' if torch.cuda.is_available() else 'cpu')`.")
def test_get_device(student, available, expected):
    """get_device() gives cuda when CUDA is available and cpu when it is not"""
    got = student.helper("call_with_cuda", student.get("get_device"), available)
    when = "when torch.cuda.is_available() is " + str(available)
    expect(not got["raised"], f"{when}, `get_device` raised {got['raised']}")
    expect(got["type"] == "device", f"{when}, get_device() should return a torch.device, got a {got['type']}")
    expect(got["device_type"] == expected,
           f"{when}, get_device() should return a {expected} device, got {got['device']!r}"
           + (" (is the device decided once, outside get_device? The notebook asks for the check inside "
              "get_device, at call time)" if got["device_type"] in ("cpu", "cuda") else ""))
