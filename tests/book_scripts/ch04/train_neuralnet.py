# Mini-batch training in chapter 4's style, with fewer iterations.
import sys, os
sys.path.append(os.pardir)
import numpy as np
from dataset.mnist import load_mnist
from two_layer_net import TwoLayerNet

(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)
network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)

# the backprop gradient of this hand-written net agrees with common.gradient's
x_small, t_small = x_train[:2], t_train[:2]
small = TwoLayerNet(784, 3, 10, weight_init_std=0.1)
numeric = small.numerical_gradient(x_small, t_small)
analytic = small.gradient(x_small, t_small)
for key in ('W2', 'b2', 'b1'):
    print("check " + key + ":" + str(np.average(np.abs(numeric[key] - analytic[key]))))

rng = np.random.default_rng(1)
iters_num, batch_size, learning_rate = 600, 100, 0.5
iter_per_epoch = 200
for i in range(iters_num):
    batch_mask = rng.choice(x_train.shape[0], batch_size)
    x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]
    grad = network.gradient(x_batch, t_batch)
    for key in ('W1', 'b1', 'W2', 'b2'):
        network.params[key] -= learning_rate * grad[key]
    if i % iter_per_epoch == 0 or i == iters_num - 1:
        train_acc = network.accuracy(x_train[:5000], t_train[:5000])
        test_acc = network.accuracy(x_test, t_test)
        print("train acc, test acc | " + str(train_acc) + ", " + str(test_acc))
print("loss:" + str(network.loss(x_batch, t_batch)))
