"""A course's CNN lecture end to end: a LeNet-style network trained on FakeData through
transforms, a DataLoader, cross-entropy and Adam, until it has memorised 16 noise images."""
import chainrule
from chainrule import nn
from chainrule.utils.data import DataLoader
from chainrule.vision import datasets, transforms


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(16 * 5 * 5, 32), nn.ReLU(), nn.Linear(32, 4))

    def forward(self, x):
        return self.classifier(self.features(x))


def test_lenet_learns_fake_data():
    pipeline = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    dataset = datasets.FakeData(size=16, image_size=(1, 28, 28), num_classes=4, transform=pipeline)
    loader = DataLoader(dataset, batch_size=8, shuffle=True)
    model = LeNet()
    optimizer = chainrule.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(25):
        for images, targets in loader:
            loss = nn.functional.cross_entropy(model(images), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    assert losses[-1] + losses[-2] < 0.5 * (losses[0] + losses[1])
