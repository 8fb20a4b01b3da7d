"""The optimization method's parts: backbones, losses, controls, the loop and its options."""
