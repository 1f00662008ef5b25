# DeepConvNet trained by the Trainer with Adam (a short run: its first iterations only).
import os
import sys
sys.path.append(os.pardir)
import numpy as np
from dataset.mnist import load_mnist
from deep_convnet import DeepConvNet
from common.trainer import Trainer

(x_train, t_train), (x_test, t_test) = load_mnist(flatten=False)
x_train, t_train = x_train[:600], t_train[:600]

network = DeepConvNet(seed=18)
trainer = Trainer(network, x_train, t_train, x_test[:200], t_test[:200], epochs=1,
                  mini_batch_size=50, optimizer='Adam', optimizer_param={'lr': 0.002},
                  evaluate_sample_num_per_epoch=100, verbose=True, seed=19)
trainer.train()
network.save_params("deep_convnet_params.pkl")
print("Saved Network Parameters!")
