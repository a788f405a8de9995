"""Catalog entries, one module per part of the material. Importing a module registers its entries."""
