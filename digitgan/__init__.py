"""digitgan: class-conditional GANs on handwritten digits, trained, explored and evaluated on a laptop CPU."""

__version__ = "0.1.0"
