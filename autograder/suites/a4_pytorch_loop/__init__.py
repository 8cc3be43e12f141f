"""Hidden suite of a4_pytorch_loop: the PyTorch training loop, graded on CPU and GPU runners."""
