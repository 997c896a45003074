"""Scripts that measure the course (the README's figures, the gates' calibration data).

Run them from the repository root: `python benchmarks/<name>.py --help`.
"""
