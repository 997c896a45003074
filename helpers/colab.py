"""Install what a notebook needs and the machine lacks (Colab), never what it already has.

Colab ships torch, gymnasium, pygame, moviepy, matplotlib, scipy and tqdm, so there this is
usually a no-op. It never installs torch (the wheel is huge; Colab's own build is right for its
GPU) and never `gymnasium[classic-control]`, whose pygame-ce would shadow Colab's pygame.
"""

import importlib.util
import subprocess
import sys

# module name -> pip requirement, installed only when the module cannot be imported
NEEDED_MODULES = {
    "gymnasium": "gymnasium>=1.0",
    "pygame": "pygame",
    "moviepy": "moviepy",
    "imageio_ffmpeg": "imageio-ffmpeg",
    "matplotlib": "matplotlib",
    "scipy": "scipy",
    "tqdm": "tqdm",
}


def install_missing() -> None:
    """pip-install the requirements of the modules that are missing, saying what it installs.
    Returns nothing, so the setup cell shows no output when nothing was missing."""
    if importlib.util.find_spec("torch") is None:
        raise RuntimeError(
            "PyTorch is not installed. Locally, run `pip install -r requirements.txt` "
            "(it pins a CPU build); in Colab, torch is preinstalled."
        )
    missing = [req for module, req in NEEDED_MODULES.items() if importlib.util.find_spec(module) is None]
    if missing:
        print("Installing:", ", ".join(missing))
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *missing], check=True)
