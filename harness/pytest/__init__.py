"""The pytest front end: the plugin, every hook it implements, one definition of a scenario, and the glue
between the step definitions (`harness.steps`) and the world. The core knows nothing of pytest; this package
is where the two meet."""
