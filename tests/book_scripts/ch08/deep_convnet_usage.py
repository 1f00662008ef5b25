# What DeepConvNet offers: its layer list, parameters, scores, and dropout on and off.
import os
import sys
sys.path.append(os.pardir)
import numpy as np
from dataset.mnist import load_mnist
from deep_convnet import DeepConvNet

(x_train, t_train), (x_test, t_test) = load_mnist(flatten=False)
network = DeepConvNet(seed=21)
print("layers:" + ",".join(type(layer).__name__ for layer in network.layers))
for i in range(1, 9):
    print("W" + str(i) + ":" + str(network.params['W' + str(i)].shape))
x = x_test[:20]
print("inference repeatable:" + str(np.array_equal(network.predict(x), network.predict(x))))
print("training differs:" + str(not np.array_equal(network.predict(x, train_flg=True),
                                                   network.predict(x, train_flg=True))))
grads = network.gradient(x, t_test[:20])
print("grads match params:" + str(all(grads[k].shape == network.params[k].shape
                                      for k in network.params)))
