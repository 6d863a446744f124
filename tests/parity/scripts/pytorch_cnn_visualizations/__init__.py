# Utku Ozbulak's pytorch-cnn-visualizations (https://github.com/utkuozbulak/pytorch-cnn-visualizations),
# the shared helpers of its src/ folder: misc_functions.py (as in the repository, less PIL/matplotlib)
# and models.py, a stand-in for torchvision.models (small seeded AlexNet/VGG-like networks).
