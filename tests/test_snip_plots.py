"""The paper's Figure 2 pictures (plots.py): the numbers behind the image and the PNG files."""
import numpy as np
import pytest

from minisnip.plots import first_layer_picture, save_figure2, save_figure2_grid


def test_picture_is_the_kept_fraction_per_input_pixel():
    mask = np.zeros((4, 784))
    mask[:, 0] = 1           # pixel (0, 0): every hidden unit keeps it
    mask[:2, 28 + 3] = 1     # pixel (1, 3): half of them
    picture = first_layer_picture(mask)
    assert picture.shape == (28, 28)
    assert picture[0, 0] == 1 and picture[1, 3] == 0.5 and picture.sum() == 1.5
    with pytest.raises(ValueError, match=r"\(hidden, 784\)"):
        first_layer_picture(np.ones((4, 100)))


def test_figure2_files_are_png(tmp_path):
    rng = np.random.default_rng(0)
    masks = {f"class {c}": rng.random((10, 784)) < 0.1 for c in range(3)}
    one = save_figure2(masks["class 0"], str(tmp_path / "one.png"), title="t",
                       image=rng.random(784))
    grid = save_figure2_grid(masks, str(tmp_path / "sub" / "grid.png"),
                             examples={k: rng.random(784) for k in masks})
    for path in (one, grid):
        with open(path, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.rglob("*.tmp.png"))


NO_BACKEND = """
import sys
import matplotlib
calls = []
matplotlib.use = lambda *a, **k: calls.append(a)
import numpy as np
from minisnip import plots
masks = {"a": np.ones((3, 784)), "b": np.zeros((3, 784))}
plots.save_figure2_grid(masks, sys.argv[1] + "/g.png", examples={k: np.ones(784) for k in masks})
plots.save_figure2(masks["a"], sys.argv[1] + "/p.png")
assert not calls, calls
assert "matplotlib.pyplot" not in sys.modules, "pyplot was imported"
print("ok")
"""


def test_plots_choose_no_backend_and_never_touch_pyplot(tmp_path):
    """So that plt.show() in a notebook keeps working after any minisnip figure."""
    import os
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    out = subprocess.run([sys.executable, "-c", NO_BACKEND, str(tmp_path)], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "ok", out.stderr[-2000:]
