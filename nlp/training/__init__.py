"""Training: everything that makes ``nlp/model`` from ``nlp/data``.

- ``textcat``: the architecture and the seeded training loop;
- ``calibration``: the cross-validation that fits the classifier's calibration;
- ``needs``: the need-type model (several seeds, weights averaged);
- ``build``: ``recueil nlp train``, which trains, calibrates and saves all of it.

Inference (``nlp.classifier``, ``nlp.spacy_classifier``, ``nlp.needs``, ``nlp.similarity``,
``nlp.loading``) never imports this package; studies (``nlp.experiments``) sit on top of it.
"""
