"""The tests' own Dramatiq app, as a team's would be: its broker, its middleware, its actors."""
