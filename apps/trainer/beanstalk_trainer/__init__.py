"""Encoder pretraining for Beanstalk: self-supervised autoencoders and a supervised reference,
exported to ONNX with a JSON sidecar that the platform's encoder (packages/ml) reads."""
