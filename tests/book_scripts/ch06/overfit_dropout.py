# The overfitting 7-layer network again, trained by the Trainer without and with dropout.
import os
import sys
sys.path.append(os.pardir)
import numpy as np
from dataset.mnist import load_mnist
from common.multi_layer_net_extend import MultiLayerNetExtend
from common.trainer import Trainer

(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
x_train, t_train = x_train[:300], t_train[:300]
x_test, t_test = x_test[:2000], t_test[:2000]

for use_dropout in (False, True):
    network = MultiLayerNetExtend(input_size=784,
                                  hidden_size_list=[100, 100, 100, 100, 100, 100],
                                  output_size=10, use_dropout=use_dropout,
                                  dropout_ration=0.3, seed=2)
    trainer = Trainer(network, x_train, t_train, x_test, t_test, epochs=40,
                      mini_batch_size=100, optimizer='adam', optimizer_param={'lr': 0.001},
                      verbose=False, seed=3)
    trainer.train()
    print("dropout:" + str(use_dropout) + " train acc:" + str(trainer.train_acc_list[-1])
          + " test acc:" + str(trainer.test_acc_list[-1]))
