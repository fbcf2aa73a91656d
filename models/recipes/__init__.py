"""Training recipes by name (`arbiter train --recipe NAME`)."""

from __future__ import annotations

from models.recipes.base import FittedModel, Recipe
from models.recipes.sklearn_recipes import (
    HistGradientBoostingRecipe,
    IsolationForestRecipe,
    LogisticRecipe,
    RandomForestRecipe,
)

RECIPES: dict[str, Recipe] = {
    r.name: r for r in (RandomForestRecipe(), LogisticRecipe(), HistGradientBoostingRecipe(), IsolationForestRecipe())
}


def get_recipe(name: str) -> Recipe:
    """The recipe called `name`; a clear error naming the known ones otherwise."""
    try:
        return RECIPES[name]
    except KeyError:
        raise ValueError(f"unknown recipe {name!r}; known: {', '.join(sorted(RECIPES))}") from None


__all__ = ["RECIPES", "FittedModel", "Recipe", "get_recipe"]
