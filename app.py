"""The browser view of wijkteam-sim: a Mesa SolaraViz page of the neighbourhood and its team.

Start it with ``wijkteam viz`` or ``solara run app.py --host 127.0.0.1 --port 8765 --production``
and open http://127.0.0.1:8765 in a browser. The page needs no internet: the pinned
``solara-assets`` package ships the front end, ipyvue/ipyvuetify < 2 keep Mesa's grid on the
Vue 2 front end, and everything is drawn with matplotlib.

This file is only the entry point ``solara run`` expects: it serves :func:`Page`. The page
lives in the package ``webapp`` (levers and presets, figures, summary table, components).
"""

from webapp.page import Page

__all__ = ["Page"]
