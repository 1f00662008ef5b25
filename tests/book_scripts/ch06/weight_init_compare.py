# std 0.01 vs Xavier vs He initial weights on a 5-layer ReLU MultiLayerNet, SGD lr 0.01.
import sys, os
sys.path.append(os.pardir)
import numpy as np
from dataset.mnist import load_mnist
from common.util import smooth_curve
from common.multi_layer_net import MultiLayerNet
from common.optimizer import SGD

(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
weight_init_types = {'std=0.01': 0.01, 'Xavier': 'sigmoid', 'He': 'relu'}
optimizer = SGD(lr=0.01)
networks = {key: MultiLayerNet(input_size=784, hidden_size_list=[100, 100, 100, 100],
                               output_size=10, weight_init_std=kind)
            for key, kind in weight_init_types.items()}
train_loss = {key: [] for key in weight_init_types}
rng = np.random.default_rng(4)
for i in range(200):
    batch_mask = rng.choice(x_train.shape[0], 128)
    x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]
    for key in weight_init_types:
        grads = networks[key].gradient(x_batch, t_batch)
        optimizer.update(networks[key].params, grads)
        train_loss[key].append(networks[key].loss(x_batch, t_batch))
for key in weight_init_types:
    print(key + ":" + str(smooth_curve(train_loss[key])[-1]))
