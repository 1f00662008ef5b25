# The Trainer with weight decay and a numerical check of MultiLayerNet's gradient.
import os
import sys
sys.path.append(os.pardir)
import numpy as np
from dataset.mnist import load_mnist
from common.multi_layer_net import MultiLayerNet
from common.trainer import Trainer

(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
small = MultiLayerNet(input_size=784, hidden_size_list=[5, 4], output_size=10,
                      activation='sigmoid', weight_init_std='xavier', weight_decay_lambda=0.1)
numeric = small.numerical_gradient(x_train[:3], t_train[:3])
analytic = small.gradient(x_train[:3], t_train[:3])
print("max diff:" + str(max(np.max(np.abs(numeric[k] - analytic[k])) for k in numeric)))

network = MultiLayerNet(input_size=784, hidden_size_list=[50], output_size=10,
                        weight_decay_lambda=0.01)
trainer = Trainer(network, x_train[:1000], t_train[:1000], x_test[:1000], t_test[:1000],
                  epochs=4, mini_batch_size=100, optimizer='Adam',
                  optimizer_param={'lr': 0.005}, verbose=True)
trainer.train()
print("epochs recorded:" + str(len(trainer.train_acc_list)))
