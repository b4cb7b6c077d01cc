"""Packaging for theanogpu.

``templates/`` and ``examples/`` live at the top of the repository (users and tox read them there)
and are installed as the data packages ``theanogpu.templates`` and ``theanogpu.examples`` so that an
installed tool finds them through importlib.resources.
"""
import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(r'__version__ = "([^"]+)"', (HERE / "theanogpu" / "__init__.py").read_text()).group(1)

setup(
    name="theanogpu",
    version=VERSION,
    description="Check that Theano/Keras really use the GPU and CNMeM, and measure what they gain",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.8",
    packages=find_packages(include=["theanogpu", "theanogpu.*"])
    + ["theanogpu.templates", "theanogpu.templates.stacks", "theanogpu.examples"],
    package_dir={
        "theanogpu.templates": "templates",
        "theanogpu.templates.stacks": "templates/stacks",
        "theanogpu.examples": "examples",
    },
    package_data={
        "theanogpu.templates": ["*.ini", "*.theanorc", "*.md"],
        "theanogpu.templates.stacks": ["*.txt", "*.ini"],
        "theanogpu.examples": ["*.py"],
    },
    install_requires=[
        "docopt-ng>=0.9",
        "platformdirs>=3",
        "rich>=12",
    ],
    extras_require={
        "plot": ["matplotlib>=3.5"],
        "test": ["pytest>=7", "pytest-xdist>=3", "hypothesis>=6", "ruff>=0.4", "mypy>=1.10", "matplotlib>=3.5"],
    },
    entry_points={"console_scripts": ["theanogpu = theanogpu.cli:main"]},
    classifiers=[
        "Environment :: Console",
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
