"""The browser page of wijkteam-sim (Mesa SolaraViz), served from ``app.py`` at the project root.

- :mod:`webapp.levers` - the sidebar's inputs from the parameter registry, the scenario presets
  (the files of ``experiments/scenarios/``, read by :mod:`experiments.scenario`) and the run the
  page makes of them (:class:`~webapp.levers.ViewModel`);
- :mod:`webapp.figures` - the map and the plots, each a :class:`matplotlib.figure.Figure`;
- :mod:`webapp.summary` - the summary table, derived from the output table (:mod:`model.outputs`);
- :mod:`webapp.page` - the Solara components and :func:`~webapp.page.Page`.

Everything but :mod:`webapp.page` is plain Python, tested in ``tests/test_app.py`` without a browser.
"""
