"""Fission posters (裂变海报): templates, pure layout and rendering, the bundled CJK font."""
