"""The networks that read digits: the evaluator's reference classifier and the classifiers `digitgan dream` drives
backwards (reference.py: network, training recipe, load/save); their weights and cards ship in weights/."""
