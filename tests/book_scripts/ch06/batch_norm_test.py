# Training accuracy after a few epochs, with and without batch norm, across weight scales.
import os
import sys
sys.path.append(os.pardir)
import numpy as np
from dataset.mnist import load_mnist
from common.multi_layer_net_extend import MultiLayerNetExtend
from common.optimizer import SGD

(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
x_train, t_train = x_train[:1000], t_train[:1000]
max_epochs = 8
train_size = x_train.shape[0]
batch_size = 100
learning_rate = 0.01


def train(weight_init_std):
    bn_network = MultiLayerNetExtend(input_size=784, hidden_size_list=[100, 100, 100, 100, 100],
                                     output_size=10, weight_init_std=weight_init_std,
                                     use_batchnorm=True, seed=4)
    network = MultiLayerNetExtend(input_size=784, hidden_size_list=[100, 100, 100, 100, 100],
                                  output_size=10, weight_init_std=weight_init_std, seed=4)
    optimizer = SGD(lr=learning_rate)
    rng = np.random.default_rng(5)
    for i in range(int(max_epochs * train_size / batch_size)):
        batch_mask = rng.choice(train_size, batch_size)
        x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]
        for _network in (bn_network, network):
            grads = _network.gradient(x_batch, t_batch)
            optimizer.update(_network.params, grads)
    return network.accuracy(x_train, t_train), bn_network.accuracy(x_train, t_train)


for w in (1.0, 0.1, 0.03, 0.01):
    acc, bn_acc = train(w)
    print("w:" + str(w) + " normal:" + str(acc) + " batchnorm:" + str(bn_acc))
