"""The book's toy data sets: `spiral_data`, `vertical_data`, `sine_data`."""

import numpy as np


def spiral_data(samples, classes):
    """`classes` spiral arms of `samples` points: radius 0..1, angle 4c..4(c+1) plus N(0, 0.2²) noise."""
    X = np.zeros((samples * classes, 2))
    y = np.zeros(samples * classes, dtype="uint8")
    for c in range(classes):
        rows = range(samples * c, samples * (c + 1))
        radius = np.linspace(0.0, 1, samples)
        angle = np.linspace(c * 4, (c + 1) * 4, samples) + np.random.randn(samples) * 0.2
        X[rows] = np.c_[radius * np.sin(angle * 2.5), radius * np.cos(angle * 2.5)]
        y[rows] = c
    return X, y


def vertical_data(samples, classes):
    """One cloud per class around x = c/3, y = 0.5."""
    X = np.zeros((samples * classes, 2))
    y = np.zeros(samples * classes, dtype="uint8")
    for c in range(classes):
        rows = range(samples * c, samples * (c + 1))
        X[rows] = np.c_[np.random.randn(samples) * 0.1 + c / 3, np.random.randn(samples) * 0.1 + 0.5]
        y[rows] = c
    return X, y


def sine_data(samples=1000):
    """x in [0, 1), y = sin(2πx), as column vectors."""
    X = np.arange(samples).reshape(-1, 1) / samples
    y = np.sin(2 * np.pi * X).reshape(-1, 1)
    return X, y
