import os

from setuptools import find_packages, setup

META = {}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "minisnip", "_meta.py")) as f:
    exec(f.read(), META)  # the version and dependencies, without importing the package

setup(
    name="minisnip",
    version=META["VERSION"],
    description="A small reverse-mode autodiff library in NumPy + Numba, built to teach SNIP "
                "(single-shot network pruning based on connection sensitivity).",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=META["PYTHON_REQUIRES"],
    packages=find_packages(include=["minisnip", "minisnip.*"]),
    package_data={"minisnip": ["datasets/*.npz", "datasets/*.json"]},
    include_package_data=True,
    install_requires=META["INSTALL_REQUIRES"],
    extras_require=META["EXTRAS_REQUIRE"],
    entry_points={"console_scripts": ["minisnip=minisnip.cli:main"]},
    license="MIT",
)
