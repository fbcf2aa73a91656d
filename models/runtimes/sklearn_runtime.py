"""Serving through the scikit-learn artifact itself: the fallback runtime.

It unpickles the artifact, so it only ever runs on a bundle whose hashes were verified.
"""

from __future__ import annotations

import joblib
import numpy as np

from models.errors import BundleError
from models.explain import explainer_for
from models.runtimes.base import OpenedBundle, Runtime


class SklearnRuntime(Runtime):
    kind = "sklearn"

    def __init__(self, bundle: OpenedBundle) -> None:
        super().__init__(bundle)
        serving = bundle.manifest["serving"]
        if bundle.manifest.get("flavour") != "sklearn":
            raise BundleError(f"the sklearn runtime cannot load a {bundle.manifest.get('flavour')} bundle")
        self.estimator = joblib.load(bundle.path / serving["artifact"])
        if hasattr(self.estimator, "n_jobs"):
            self.estimator.n_jobs = 1  # a thread pool per call costs more than it saves at serving sizes
        self.method = getattr(self.estimator, serving["native_method"])
        if self.explainer is None:  # a model that computes its own contributions (outlier recipes)
            self.explainer = explainer_for(bundle.manifest, self.features.feature_names,
                                           own=getattr(self.estimator, "contributions", None))

    def raw(self, X: np.ndarray) -> np.ndarray:
        return self.method(X)
