# What SimpleConvNet offers: its parameters, layers, scores, batched accuracy and files.
import os
import sys
sys.path.append(os.pardir)
import numpy as np
from dataset.mnist import load_mnist
from simple_convnet import SimpleConvNet

(x_train, t_train), (x_test, t_test) = load_mnist(flatten=False, one_hot_label=True)
network = SimpleConvNet(seed=16)
for key in ('W1', 'b1', 'W2', 'b2', 'W3', 'b3'):
    print(key + ":" + str(network.params[key].shape))
print("layers:" + ",".join(network.layers.keys()))
print("scores:" + str(network.predict(x_test[:7]).shape))
print("accuracy same for any batch size:" + str(network.accuracy(x_test[:250], t_test[:250])
      == network.accuracy(x_test[:250], t_test[:250], batch_size=7)))
network.save_params("usage_params.pkl")
other = SimpleConvNet(seed=17)
other.load_params("usage_params.pkl")
print("reloaded equal:" + str(all(np.array_equal(network.params[k], other.params[k])
                                  for k in network.params)))
print("scores equal:" + str(np.array_equal(network.predict(x_test[:5]),
                                           other.predict(x_test[:5]))))
