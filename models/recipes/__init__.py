"""Training recipes by name (`arbiter train --recipe NAME`).

The recipe classes import their training libraries, which are slow to import; the names
are listed here so that a command line can offer them without paying for that.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models.recipes.base import Recipe

RECIPE_NAMES: tuple[str, ...] = ("rf", "logreg", "hgb", "isolation-forest", "dbscan-outlier",
                                 "h2o-gbm", "h2o-drf", "h2o-glm")
H2O_RECIPES = frozenset(name for name in RECIPE_NAMES if name.startswith("h2o-"))


@cache
def _catalog() -> dict[str, Recipe]:
    from models.recipes.h2o_recipes import H2ODrfRecipe, H2OGbmRecipe, H2OGlmRecipe
    from models.recipes.outlier import DbscanOutlierRecipe
    from models.recipes.sklearn_recipes import (
        HistGradientBoostingRecipe,
        IsolationForestRecipe,
        LogisticRecipe,
        RandomForestRecipe,
    )

    recipes = (RandomForestRecipe(), LogisticRecipe(), HistGradientBoostingRecipe(), IsolationForestRecipe(),
               DbscanOutlierRecipe(), H2OGbmRecipe(), H2ODrfRecipe(), H2OGlmRecipe())
    catalog = {r.name: r for r in recipes}
    assert set(catalog) == set(RECIPE_NAMES), "RECIPE_NAMES is out of step with the recipe classes"
    return catalog


def get_recipe(name: str) -> Recipe:
    """The recipe called `name`; a clear error naming the known ones otherwise."""
    if name not in RECIPE_NAMES:
        raise ValueError(f"unknown recipe {name!r}; known: {', '.join(sorted(RECIPE_NAMES))}")
    return _catalog()[name]


__all__ = ["H2O_RECIPES", "RECIPE_NAMES", "get_recipe"]
