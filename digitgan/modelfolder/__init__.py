"""The model folder: what a trained model is on disk, and everything that reads or writes one.

RUN/model/ (and the model shipped in pretrained/) holds config.json + generator.safetensors (all that drawing
needs), README.md (its model card) and, once scored, the evaluation report beside it or in RUN/eval/.
- folder.py: find, load and save a model folder; the shipped default;
- card.py: the model card;
- evaluation.py: the headline metrics (one list), the report lookup and the summary every page and file shows;
- onnx_export.py: the generator as an ONNX file carrying that summary.
"""
