# Overfitting on 300 training images, then the same 7-layer network with weight decay.
import os
import sys
sys.path.append(os.pardir)
import numpy as np
from dataset.mnist import load_mnist
from common.multi_layer_net import MultiLayerNet
from common.optimizer import Adam

(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
x_train, t_train = x_train[:300], t_train[:300]
x_test, t_test = x_test[:2000], t_test[:2000]
max_epochs = 40
train_size = x_train.shape[0]
batch_size = 100
iter_per_epoch = max(train_size / batch_size, 1)
rng = np.random.default_rng(0)

for weight_decay_lambda in (0, 0.15):
    network = MultiLayerNet(input_size=784, hidden_size_list=[100, 100, 100, 100, 100, 100],
                            output_size=10, weight_decay_lambda=weight_decay_lambda, seed=1)
    optimizer = Adam(lr=0.001)
    train_acc_list, test_acc_list = [], []
    for i in range(int(max_epochs * iter_per_epoch)):
        batch_mask = rng.choice(train_size, batch_size)
        x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]
        grads = network.gradient(x_batch, t_batch)
        optimizer.update(network.params, grads)
        if i % (10 * iter_per_epoch) == 0 or i == int(max_epochs * iter_per_epoch) - 1:
            train_acc_list.append(network.accuracy(x_train, t_train))
            test_acc_list.append(network.accuracy(x_test, t_test))
    print("lambda:" + str(weight_decay_lambda) + " train acc:" + str(train_acc_list[-1])
          + " test acc:" + str(test_acc_list[-1]))
