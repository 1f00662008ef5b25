# Training the layered network with integer labels, chapter 5's loop, fewer iterations.
import sys, os
sys.path.append(os.pardir)
import numpy as np
from dataset.mnist import load_mnist
from two_layer_net import TwoLayerNet

(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=False)
network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
rng = np.random.default_rng(2)
for i in range(801):
    batch_mask = rng.choice(x_train.shape[0], 100)
    grad = network.gradient(x_train[batch_mask], t_train[batch_mask])
    for key in ('W1', 'b1', 'W2', 'b2'):
        network.params[key] -= 0.1 * grad[key]
    if i % 200 == 0:
        print(str(network.accuracy(x_train[:10000], t_train[:10000])) + " "
              + str(network.accuracy(x_test, t_test)))
