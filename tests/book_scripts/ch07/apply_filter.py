# Each trained filter of SimpleConvNet applied to one digit by a lone Convolution layer.
import os
import sys
sys.path.append(os.pardir)
import numpy as np
from dataset.mnist import load_mnist
from simple_convnet import SimpleConvNet
from common.layers import Convolution

(x_train, t_train), (x_test, t_test) = load_mnist(flatten=False)
img = x_test[0].reshape(1, 1, 28, 28)

network = SimpleConvNet()
network.load_params("params.pkl")
worst = 0.0
for i in range(16):
    w = network.params['W1'][i]
    w = w.reshape(1, *w.shape)
    conv_layer = Convolution(w, 0)
    out = conv_layer.forward(img)
    # the same correlation, written out window by window
    direct = np.array([[np.sum(img[0, 0, y:y + 5, x:x + 5] * w[0, 0]) for x in range(24)]
                       for y in range(24)])
    worst = max(worst, np.abs(out[0, 0] - direct).max())
print("output shape:" + str(out.shape))
print("max diff from direct:" + str(worst))
