"""The pages of evaluations, by concern: exam sessions and grids, juries,
deliberations."""
