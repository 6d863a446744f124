"""FakeData: random images and labels, for trying a pipeline without a real dataset."""
import chainrule
from chainrule.vision.datasets.vision import VisionDataset
from chainrule.vision.pillow import image_or_array
from chainrule.vision.transforms.functional import to_pil_array


class FakeData(VisionDataset):
    """``size`` images of ``image_size`` (C, H, W) and labels below ``num_classes``. Item ``i`` is
    drawn from ``manual_seed(i + random_offset)`` (the global generator's state put back after),
    so it is the same every time: normal noise made an image as ``ToPILImage`` makes one (PIL, or
    its uint8 array without Pillow), and the label an int."""

    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None, target_transform=None,
                 random_offset=0):
        super().__init__(transform=transform, target_transform=target_transform)
        self.size = size
        self.num_classes = num_classes
        self.image_size = image_size
        self.random_offset = random_offset

    def __getitem__(self, index):
        if index >= len(self):
            raise IndexError(f"{self.__class__.__name__} index out of range")
        rng_state = chainrule.get_rng_state()
        chainrule.manual_seed(index + self.random_offset)
        img = chainrule.randn(*self.image_size)
        target = chainrule.randint(0, self.num_classes, size=(1,), dtype=chainrule.long)[0]
        chainrule.set_rng_state(rng_state)
        img = image_or_array(*to_pil_array(img))
        img, target = self._transformed(img, target)
        return img, target.item()

    def __len__(self):
        return self.size
