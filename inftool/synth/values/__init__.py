"""Value generation: argument values valid for a JSON Schema and realistic for the parameter
(``sampler``, ``shapes``, ``rules``), realistic pools by kind (``names``), strings matching a pattern
(``regex_sample``), and the simulated server's tool results (``results``)."""
