# DeepConvNet's accuracy with its parameters and inputs rounded to float16.
import os
import sys
sys.path.append(os.pardir)
import numpy as np
from dataset.mnist import load_mnist
from deep_convnet import DeepConvNet

(x_train, t_train), (x_test, t_test) = load_mnist(flatten=False)
network = DeepConvNet()
network.load_params("deep_convnet_params.pkl")
sampled = 300
x_test, t_test = x_test[:sampled], t_test[:sampled]

print("accuracy (float64):" + str(network.accuracy(x_test, t_test)))
x_test = x_test.astype(np.float16)
for param in network.params.values():
    param[...] = param.astype(np.float16)
print("accuracy (float16):" + str(network.accuracy(x_test, t_test)))
