# SPDX-License-Identifier: GPL-2.0
# Sphinx configuration for minihv's documentation: make htmldocs
# (scripts/htmldocs.sh) renders these pages into build/htmldocs, in the
# plain style of the kernel's own Documentation/ (reStructuredText, one
# page per subject, literal blocks for code and commands).

project = "minihv"
copyright = "the minihv authors (GPL-2.0)"
master_doc = "index"
source_suffix = ".rst"
exclude_patterns = ["_build"]
highlight_language = "none"
html_theme = "alabaster"
html_theme_options = {"page_width": "65em", "sidebar_width": "15em"}
html_title = "minihv documentation"
html_show_sourcelink = False
