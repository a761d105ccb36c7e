"""Fixture tooling, apart from the runtime replay transport: authoring reference answers,
checking stored answers, rendering the request the current code would send."""
