"""A tiny pure-Python classifier for ``sw-registry demo`` when scikit-learn is not installed."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class ThresholdModel:
    """Logistic regression trained by plain gradient descent on a few features."""

    weights: list[float] = field(default_factory=list)
    bias: float = 0.0

    def fit(self, rows: list[list[float]], labels: list[int], epochs: int = 200, lr: float = 0.1) -> ThresholdModel:
        import math

        self.weights = [0.0] * len(rows[0])
        for _ in range(epochs):
            for x, y in zip(rows, labels):
                z = sum(w * xi for w, xi in zip(self.weights, x)) + self.bias
                p = 1 / (1 + math.exp(-z))
                g = p - y
                self.weights = [w - lr * g * xi for w, xi in zip(self.weights, x)]
                self.bias -= lr * g
        return self

    def predict(self, rows: list[list[float]]) -> list[int]:
        return [int(sum(w * xi for w, xi in zip(self.weights, x)) + self.bias > 0) for x in rows]


def make_data(n: int, seed: int) -> tuple[list[list[float]], list[int]]:
    rng = random.Random(seed)
    rows, labels = [], []
    for _ in range(n):
        x = [rng.gauss(0, 1) for _ in range(3)]
        rows.append(x)
        labels.append(int(x[0] + 0.5 * x[1] - 0.25 * x[2] + rng.gauss(0, 0.5) > 0))
    return rows, labels
