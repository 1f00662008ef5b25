# SimpleConvNet on MNIST images (N, 1, 28, 28) with the Trainer; saves the parameters.
import os
import sys
sys.path.append(os.pardir)
import numpy as np
from dataset.mnist import load_mnist
from simple_convnet import SimpleConvNet
from common.trainer import Trainer

(x_train, t_train), (x_test, t_test) = load_mnist(flatten=False)
print("x_train shape:" + str(x_train.shape))
x_train, t_train = x_train[:2000], t_train[:2000]
x_test, t_test = x_test[:500], t_test[:500]

max_epochs = 3
network = SimpleConvNet(input_dim=(1, 28, 28),
                        conv_param={'filter_num': 30, 'filter_size': 5, 'pad': 0, 'stride': 1},
                        hidden_size=100, output_size=10, weight_init_std=0.01, seed=13)
trainer = Trainer(network, x_train, t_train, x_test, t_test, epochs=max_epochs,
                  mini_batch_size=100, optimizer='Adam', optimizer_param={'lr': 0.001},
                  evaluate_sample_num_per_epoch=500, verbose=False, seed=14)
trainer.train()
for train_acc, test_acc in zip(trainer.train_acc_list, trainer.test_acc_list):
    print("epoch train acc:" + str(train_acc) + " test acc:" + str(test_acc))
print("final test acc:" + str(network.accuracy(x_test, t_test)))
network.save_params("params.pkl")
print("Saved Network Parameters!")
