"""The package's version and dependencies, in one place: ``setup.py`` reads this file (without
importing the package) and the course builder writes them into a student tree's setup.py."""

VERSION = "0.1.0"
PYTHON_REQUIRES = ">=3.10"
INSTALL_REQUIRES = ["numpy>=1.24", "numba>=0.58", "matplotlib>=3.6"]
EXTRAS_REQUIRE = {
    # jupytext, nbclient and ipykernel run every lesson as a notebook in the tests
    "test": ["pytest>=7", "hypothesis>=6.80", "submitit>=1.5", "jupytext>=1.14",
             "nbclient>=0.7", "ipykernel>=6"],
    "bench": ["torch"],
    "cluster": ["submitit>=1.5"],
}
