"""make_grid and save_image, against grids laid out by hand."""
import numpy
import pytest
from PIL import Image

import chainrule
from chainrule.vision.utils import make_grid, save_image


def test_make_grid_lays_images_out_in_rows_with_padding():
    images = chainrule.arange(1.0, 6.0).view(5, 1, 1, 1).expand(5, 3, 2, 2).contiguous()
    grid = make_grid(images, nrow=3, padding=1, pad_value=-1.0)
    assert tuple(grid.shape) == (3, 2 * 3 + 1, 3 * 3 + 1)
    expected = numpy.full((3, 7, 10), -1.0, numpy.float32)
    for index in range(5):
        row, column = divmod(index, 3)
        expected[:, 1 + 3 * row: 3 + 3 * row, 1 + 3 * column: 3 + 3 * column] = index + 1
    numpy.testing.assert_array_equal(grid.numpy(), expected)


def test_make_grid_repeats_one_channel_and_returns_a_single_image_as_is():
    gray = chainrule.rand(4, 1, 5, 5)
    grid = make_grid(gray)
    assert tuple(grid.shape) == (3, 9, 4 * 7 + 2)
    assert grid[0].tolist() == grid[2].tolist()
    single = chainrule.rand(3, 5, 5)
    assert make_grid(single).tolist() == single.tolist()
    assert make_grid([single, single], padding=0).shape == (3, 5, 10)


def test_make_grid_normalize_over_the_batch_or_each_image():
    images = chainrule.tensor([[[[0.0, 2.0]]], [[[4.0, 8.0]]]])
    assert make_grid(images, padding=0, normalize=True)[0].tolist() == [[0.0, 0.25, 0.5, 1.0]]
    assert make_grid(images, padding=0, normalize=True, scale_each=True)[0].tolist() == [[0.0, 1.0, 0.0, 1.0]]
    assert make_grid(images, padding=0, normalize=True, value_range=(0, 4))[0].tolist() == [[0.0, 0.5, 1.0, 1.0]]
    assert images[1, 0, 0, 1].item() == 8.0
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        make_grid(images, normalize=True, value_range=[0, 1])
    with pytest.raises(TypeError, match="tensor or list of tensors expected"):
        make_grid(numpy.zeros((2, 3, 4, 4)))


def test_save_image_rounds_to_the_nearest_byte(tmp_path):
    images = chainrule.tensor([[[[0.0, 0.5], [1.0, 2.0]]], [[[0.2, 0.4], [0.6, -1.0]]]])
    path = tmp_path / "grid.png"
    save_image(images, path, padding=0)
    saved = numpy.asarray(Image.open(path))
    assert saved.shape == (2, 4, 3) and saved[:, :, 0].tolist() == [[0, 128, 51, 102], [255, 255, 153, 0]]
