"""Style properties measured on pixels, and directions in the noise that move them (the offline page's sliders)."""

import numpy as np

from digitgan.drawing.style import PROPERTIES, check_directions, fit_directions, image_properties, zscore_within_class
from digitgan.modelfolder.folder import default_model_dir, load_generator


def bar(angle: float, width: int = 2, length: int = 16) -> np.ndarray:
    """A stroke through the centre, leaning `angle` radians right of vertical, `width` pixels wide."""
    image = np.zeros((28, 28), np.uint8)
    for step in np.linspace(-length / 2, length / 2, 200):
        x, y = 14 + step * np.sin(angle), 14 - step * np.cos(angle)
        image[int(round(y)), int(round(x)):int(round(x)) + width] = 255
    return image


def test_properties_read_slant_thickness_and_width_from_pixels():
    upright, leaning, thick = bar(0.0), bar(0.35), bar(0.0, width=5)
    props = image_properties(np.stack([upright, leaning, thick]))
    assert abs(props["slant"][0]) < 0.05 and props["slant"][1] > 0.25  # leaning right reads as positive slant
    assert 1.8 < props["thickness"][2] / props["thickness"][0] < 3.5  # a 5-pixel pen against a 2-pixel one
    assert props["width"][2] > props["width"][0]
    assert np.isnan(image_properties(np.zeros((1, 28, 28), np.uint8))["slant"][0])  # no ink: no property


def test_zscore_is_within_each_class():
    values, labels = np.array([1.0, 3.0, 10.0, 30.0]), np.array([0, 0, 1, 1])
    assert np.allclose(zscore_within_class(values, labels), [-1, 1, -1, 1])


def test_each_direction_raises_its_property_on_the_shipped_model():
    generator, config, _ = load_generator(default_model_dir())
    fitted = fit_directions(generator, config, samples=4000)
    assert set(fitted.directions) == set(PROPERTIES)
    assert all(abs(np.linalg.norm(d) - 1) < 1e-9 for d in fitted.directions.values())
    shares = check_directions(generator, config, fitted.directions, step=1.0, pairs=200)
    assert all(share >= 0.9 for share in shares.values()), shares  # a slider works: right raises it in >= 90%
