"""What the catalog is published as: the MkDocs plugin of the site, HTML of formula blocks, figures,
LaTeX notes and slides, and the words of the interface in both languages."""
