from setuptools import find_packages, setup

setup(
    name="minisnip",
    version="0.1.0",
    description="A small reverse-mode autodiff library in NumPy + Numba, built to teach SNIP "
                "(single-shot network pruning based on connection sensitivity).",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["minisnip", "minisnip.*"]),
    package_data={"minisnip": ["datasets/*.npz", "datasets/*.json"]},
    include_package_data=True,
    install_requires=["numpy>=1.24", "numba>=0.58", "matplotlib>=3.6"],
    extras_require={"test": ["pytest>=7", "hypothesis>=6.80"],
                    "bench": ["torch"],
                    "cluster": ["submitit>=1.5"]},
    entry_points={"console_scripts": ["minisnip=minisnip.cli:main"]},
    license="MIT",
)
