# Random search for the learning rate and weight decay, judged on validation data.
import os
import sys
sys.path.append(os.pardir)
import numpy as np
from dataset.mnist import load_mnist
from common.multi_layer_net import MultiLayerNet
from common.util import shuffle_dataset
from common.trainer import Trainer

(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
x_train, t_train = x_train[:500], t_train[:500]
validation_rate = 0.20
validation_num = int(x_train.shape[0] * validation_rate)
x_train, t_train = shuffle_dataset(x_train, t_train, rng=7)
x_val, t_val = x_train[:validation_num], t_train[:validation_num]
x_train, t_train = x_train[validation_num:], t_train[validation_num:]


def __train(lr, weight_decay, epocs=15):
    network = MultiLayerNet(input_size=784, hidden_size_list=[100, 100, 100, 100, 100, 100],
                            output_size=10, weight_decay_lambda=weight_decay, seed=8)
    trainer = Trainer(network, x_train, t_train, x_val, t_val, epochs=epocs,
                      mini_batch_size=100, optimizer='sgd', optimizer_param={'lr': lr},
                      verbose=False, seed=9)
    trainer.train()
    return trainer.test_acc_list, trainer.train_acc_list


optimization_trial = 8
results_val = {}
rng = np.random.default_rng(10)
for _ in range(optimization_trial):
    weight_decay = 10 ** rng.uniform(-8, -4)
    lr = 10 ** rng.uniform(-6, -2)
    val_acc_list, train_acc_list = __train(lr, weight_decay)
    print("val acc:" + str(val_acc_list[-1]) + " | lr:" + str(lr) + ", weight decay:"
          + str(weight_decay))
    results_val["lr:" + str(lr) + ", weight decay:" + str(weight_decay)] = val_acc_list

print("=========== Hyper-Parameter Optimization Result ===========")
for i, (key, val_acc_list) in enumerate(sorted(results_val.items(),
                                               key=lambda x: x[1][-1], reverse=True)):
    print("Best-" + str(i + 1) + "(val acc:" + str(val_acc_list[-1]) + ") | " + key)
